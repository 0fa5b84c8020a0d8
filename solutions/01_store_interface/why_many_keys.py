why_many_keys = "C"

# ---- hidden tests ----
assert str(why_many_keys).strip().upper() == "C"
