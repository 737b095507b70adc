/* Behaviour shared by every page, kept out of the HTML so the Content-Security-Policy can forbid inline scripts.
   - <select data-autosubmit>: submits its form when the choice changes. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
})();
