"""RowButtonHelper (#22) writes modeladmin's buttons for lists of many rows with each button's texts built
once and its URL reversed once per request: it must give exactly what modeladmin's ButtonHelper gives, for
every combination of permissions and for keys the URL takes as they are and keys it must encode."""

from itertools import product
from types import SimpleNamespace

import pytest
from wagtail_modeladmin.helpers import ButtonHelper

from workpro_plugin.backoffice.list_rows import RowButtonHelper

pytestmark = pytest.mark.django_db
LIST = "/admin/workpro_plugin/enrollment/"
ACTIONS = ("inspect", "edit", "delete")


class _Permissions:
    """Allows each row what its `may` says, and counts how often it was asked."""

    def __init__(self):
        self.asked = []

    def __getattr__(self, name):
        action = name.removeprefix("user_can_").removesuffix("_obj")

        def ask(user, obj):
            self.asked.append((action, obj.id))
            return action in obj.may
        return ask


def _rows():
    """Every combination of permissions for each kind of key (each row its own key, as in a list): an
    integer, a text the URL takes as it is, and texts that are encoded (admin quote, then the URL)."""
    combinations = [set(c) for n in range(4) for c in product(ACTIONS, repeat=n) if len(set(c)) == n]
    kinds = [lambda n: 7 + 100 * n, "abc-{}".format, "a_b{}".format, "ä{}".format, "x:y{}".format]
    return [SimpleNamespace(id=kind(n), may=may) for kind in kinds for n, may in enumerate(combinations)]


def test_the_same_buttons_as_modeladmins_button_helper(client, world):
    client.force_login(world.superuser)
    response = client.get(LIST)
    view, request = response.context["view"], response.context["request"]
    view.permission_helper = ours = _Permissions()
    row_helper = RowButtonHelper(view, request)
    view.permission_helper = _Permissions()
    stock = ButtonHelper(view, request)
    rows = _rows()
    for obj in rows:
        assert row_helper.get_primary_button(obj) == stock.get_primary_button(obj), obj
        for kwargs in ({"classnames_add": ["button-small"]}, {}, {"exclude": ["edit"]},
                       {"classnames_exclude": ["button"], "classnames_add": ["x"]}):
            assert row_helper.get_buttons_for_obj(obj, **kwargs) == stock.get_buttons_for_obj(obj, **kwargs), obj
    plain = next(obj for obj in rows if obj.id == "abc-1")
    assert row_helper.inspect_button(plain.id)["url"].endswith("/inspect/abc-1/")
    # Each row's permission for an action was asked once, however many buttons used it.
    assert len(ours.asked) == len(set(ours.asked))


def test_a_buttons_returned_dict_is_its_own(client, world):
    client.force_login(world.superuser)
    response = client.get(LIST)
    view, request = response.context["view"], response.context["request"]
    helper = RowButtonHelper(view, request)
    first = helper.inspect_button(1)
    first["url"] = "changed"
    first["label"] = "changed"
    second = helper.inspect_button(2)
    assert second["url"].endswith("/inspect/2/") and second["label"] != "changed"
