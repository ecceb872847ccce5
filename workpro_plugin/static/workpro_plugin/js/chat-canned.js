// Textbaustein einfügen: choosing a canned reply puts its text (placeholders already filled by the
// server, in the option's data-text) into the message at the cursor, or at the end when the message
// was not yet clicked into. Choosing again straight away replaces the text just inserted, so browsing
// the list with the arrow keys leaves one text, not one per option passed. The "Einfügen" button is
// the way without JavaScript (the server appends the text); here it would insert a second time: hidden.
(function () {
  "use strict";
  var selects = document.querySelectorAll("select[data-canned-select]");
  for (var i = 0; i < selects.length; i++) { setUp(selects[i]); }

  function setUp(select) {
    var form = select.form;
    var textarea = form && form.querySelector("textarea[name=body]");
    if (!textarea || typeof textarea.setRangeText !== "function") { return; }
    var button = form.querySelector("[data-canned-insert]");
    var touched = false;  // the user has been in the message: insert at their cursor
    var last = null;      // the text inserted last, while nothing else changed: {start, text}

    function textOf(option) { return option ? option.getAttribute("data-text") || "" : ""; }

    function insert(text) {
      var value = textarea.value;
      var start;
      var end;
      var prefix = "";  // keeps the text from running into a word typed right before the cursor
      if (last && value.substr(last.start, last.text.length) === last.text) {
        start = last.start;
        end = last.start + last.text.length;
      } else if (touched) {
        start = textarea.selectionStart;
        end = textarea.selectionEnd;
        if (text && start > 0 && !/\s/.test(value.charAt(start - 1))) {
          prefix = end >= value.length ? "\n\n" : " ";
        }
      } else {
        if (text && value.trim()) { value = value.replace(/\s+$/, "") + "\n\n"; textarea.value = value; }
        start = end = value.length;
      }
      textarea.setRangeText(prefix + text, start, end, "end");
      last = text ? { start: start + prefix.length, text: text } : null;
    }

    select.addEventListener("change", function () {
      insert(textOf(select.options[select.selectedIndex]));
    });
    if (button) { button.hidden = true; button.style.display = "none"; }
    // Back in the message: the next choice is a new insertion at the cursor.
    textarea.addEventListener("focus", function () { touched = true; last = null; select.value = ""; });
    textarea.addEventListener("input", function () { last = null; });
  }
})();
