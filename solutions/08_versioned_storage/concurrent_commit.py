concurrent_commit = "C"

# ---- hidden tests ----
assert str(concurrent_commit).strip().upper() == "C", "the branch moved, so the conditional update of ref.json fails: a conflict"
