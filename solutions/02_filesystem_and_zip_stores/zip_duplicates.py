zip_duplicates = "A"

# ---- hidden tests ----
assert str(zip_duplicates).strip().upper() == "A"
