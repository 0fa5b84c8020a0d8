n5_key = f"{300 // 256}/{1000 // 256}"

# ---- hidden tests ----
assert str(n5_key).strip().strip("/") == "1/3", "x = 300 is in x block 1, y = 1000 in y block 3; N5 puts x first"
assert (n5_path / "1" / "3").is_file()
