"""Real faults from the operating system at every write point of create, add, makemigration.

docs/design.md §7 "Tests that prove it": immutable and unwritable files and folders, a
file-size limit, a path replaced by a directory while the command is paused, and SIGKILL at
each checkpoint. The fault makers and the whole-tree snapshot live in ``kit``.
"""
