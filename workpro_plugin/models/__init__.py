from .institutions import Institution, Operator
from .pages import HelpPage, OfferIndexPage

__all__ = ["HelpPage", "Institution", "OfferIndexPage", "Operator"]
