"""csc-warehouse: a data warehouse for children's social care."""
