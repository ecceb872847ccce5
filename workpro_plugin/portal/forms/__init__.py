"""Portal forms of the "Mein Konto" face, one module per feature."""
