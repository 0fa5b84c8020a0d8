cors_fix = "B"

# ---- hidden tests ----
assert cors_fix.strip().upper() == "B"
