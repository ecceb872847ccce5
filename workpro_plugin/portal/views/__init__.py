"""Portal views of the "Mein Konto" face, one module per feature."""
