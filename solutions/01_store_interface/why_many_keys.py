why_many_keys = "A"

# ---- hidden tests ----
assert str(why_many_keys).strip().upper() == "A"
