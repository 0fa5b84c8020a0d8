def fullest_directory(root):
    return max(len(dirs) + len(files) for _, dirs, files in os.walk(root))


busiest_directory = {".": fullest_directory(flat_store), "/": fullest_directory(nested_store)}
small_directories = "/"

# ---- hidden tests ----
def _entries_of_fullest(top):
    best, pending = 0, [top]
    while pending:
        with os.scandir(pending.pop()) as found:
            entries = list(found)
        best = max(best, len(entries))
        pending.extend(entry.path for entry in entries if entry.is_dir())
    return best


assert busiest_directory["."] == _entries_of_fullest(flat_store)
assert busiest_directory["/"] == _entries_of_fullest(nested_store)
assert busiest_directory["/"] < busiest_directory["."]
assert str(small_directories).strip() == "/"
