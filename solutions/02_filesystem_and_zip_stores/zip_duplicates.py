zip_duplicates = "C"

# ---- hidden tests ----
assert str(zip_duplicates).strip().upper() == "C"
