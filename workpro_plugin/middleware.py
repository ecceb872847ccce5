from django.shortcuts import redirect

# Portal views an account holder with an issued password may still reach.
ALLOWED_WITH_ISSUED_PASSWORD = {"set_password", "logout", "help", "login"}


class IssuedPasswordMiddleware:
    """An issued password is only good for choosing an own one: portal views redirect there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.namespace != "workpro" or match.url_name in ALLOWED_WITH_ISSUED_PASSWORD:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        person = getattr(user, "workpro_person", None)
        if person is not None and person.must_set_password:
            return redirect("workpro:set_password")
        return None
