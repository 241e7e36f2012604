"""pytrace's typed IR: nodes, layouts, lowering from the checked AST, a
verifier and a printer."""
