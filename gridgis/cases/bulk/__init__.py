"""Cases in bulk: `import_cases` (historical cases from CSV) and `reassign_cases` (open cases placed again
after boundary changes), both on geodata.assign_points, in one transaction each.

importing   the import, step by step          reassign    the reassignment
csvfile     reading and checking the file     placement   place/assignee/territory code/warnings, in columns
territory   grids, assignees and districts    deadlines   worktime.add_working_hours, in columns
pgcopy      binary COPY built with numpy      rebuild     drop and rebuild a table's indexes around a load
db          staging tables, column types
"""
