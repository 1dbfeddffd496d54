"""Problems: trusted, server-side definitions (inputs, reference, ABI, shapes, roofline)."""
