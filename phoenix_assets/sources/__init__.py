"""Data sources: where raw listings and parcel records come from."""
