"""The public site and "Mein Konto": pages and portal views, through the test client."""
