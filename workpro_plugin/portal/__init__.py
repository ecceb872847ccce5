"""The "Mein Konto" face of WorkPro: portal views and forms, and the public registration."""
