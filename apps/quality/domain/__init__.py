"""Pure agreement math for benchmarks and consensus (no Django imports).

Public API: `agreement.agreement` → `Agreement(score, features)` for two labels (a benchmark score is the agreement
of a label with the reference), and `consensus.consensus` → `Consensus(score, winner, label_means, matrix, features)`
for the N labels of one data row. The rules are in those modules' docstrings. Inside: `documents` (grouping a label
by feature), `geometry` (IoU and distance matrices), `matching` (Hungarian pairing), `classifications` (answers and
nested questions), `scoring` (per-feature scores of a pair of labels).
"""
