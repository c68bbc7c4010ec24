"""Record-completeness validation with Great Expectations (measures.md section 6)."""
