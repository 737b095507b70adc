"""`python manage.py benchmark scale --option rows=10000,100000,1000000`: how the cost of the interactive figures
grows with the size of an organization (issue #29). `build` makes the data in SQL, `measure` times each figure,
`benchmark` runs the sizes and prints the table (largest / smallest ratio per figure)."""
