// Gatehouse pages: progressive enhancement only. Every page works without this file (it is external,
// allowed by the CSP's script-src 'self'; nothing inline). It adds a show/hide button to each password
// field, and marks a form's submit button busy while the form is on its way.
'use strict';

(function () {
  /** A "Show" button after each password field; the field's type flips between password and text. */
  function addRevealButtons() {
    const fields = document.querySelectorAll('input[type="password"]');
    fields.forEach(function (input) {
      if (!input.id) return;
      const hadFocus = document.activeElement === input;
      // The wrapper positions the button over the field's right end.
      const wrap = document.createElement('div');
      wrap.className = 'password-wrap';
      input.before(wrap);
      wrap.append(input);
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'reveal';
      button.setAttribute('aria-controls', input.id);
      // Visible text "Show"/"Hide"; a screen reader hears "Show password" / "Hide password".
      const word = document.createElement('span');
      word.textContent = 'Show';
      const rest = document.createElement('span');
      rest.className = 'visually-hidden';
      rest.textContent = ' password';
      button.append(word, rest);
      button.addEventListener('click', function () {
        const show = input.type === 'password';
        input.type = show ? 'text' : 'password';
        word.textContent = show ? 'Hide' : 'Show';
      });
      wrap.append(button);
      // Moving a focused field blurs it; autofocus (the first invalid field) must survive.
      if (hadFocus) input.focus();
    });
    // A password goes back to hidden before the form is sent, so the browser never files it as text.
    document.querySelectorAll('form').forEach(function (form) {
      form.addEventListener('submit', function () {
        form.querySelectorAll('.password-wrap input').forEach(function (input) {
          input.type = 'password';
        });
        form.querySelectorAll('.reveal span:first-child').forEach(function (word) {
          word.textContent = 'Show';
        });
      });
    });
  }

  /** Submit buttons say they are busy, and a second click does not send the form twice. */
  function busyButtons() {
    document.addEventListener('submit', function (event) {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
      if (form.getAttribute('aria-busy') === 'true') {
        event.preventDefault(); // already on its way
        return;
      }
      const button = event.submitter || form.querySelector('button[type="submit"]');
      form.setAttribute('aria-busy', 'true');
      if (!(button instanceof HTMLButtonElement)) return;
      // Disabled after this event, not during it: the form is built from the fields first.
      setTimeout(function () {
        button.dataset.label = button.textContent || '';
        button.textContent = (button.textContent || '').trim() + '…';
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
      }, 0);
    });
    // Back/forward cache: a page restored as it was left would keep its buttons disabled.
    window.addEventListener('pageshow', function () {
      document.querySelectorAll('form[aria-busy="true"]').forEach(function (form) {
        form.removeAttribute('aria-busy');
      });
      document.querySelectorAll('button[aria-busy="true"]').forEach(function (button) {
        if (button.dataset.label !== undefined) button.textContent = button.dataset.label;
        delete button.dataset.label;
        button.disabled = false;
        button.removeAttribute('aria-busy');
      });
    });
  }

  addRevealButtons();
  busyButtons();
})();
