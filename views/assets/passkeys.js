// Passkeys in the browser: signing in with one (the sign-in page, and any second-step page that uses
// the same form) and adding one (Account › Passkeys). The WebAuthn calls are @simplewebauthn/browser's
// (webauthn.js, loaded before this file); this file only talks to Gatehouse's JSON endpoints.
//
// Progressive enhancement: the passkey forms are `hidden` in the page and shown here only when the
// browser can use passkeys; an element marked data-passkey-unsupported says why otherwise.
'use strict';

(function () {
  const lib = window.SimpleWebAuthnBrowser;
  const supported = !!(lib && window.isSecureContext && lib.browserSupportsWebAuthn());

  document.querySelectorAll('form[data-passkey], [data-passkey-divider]').forEach(function (el) {
    el.hidden = !supported;
  });
  document.querySelectorAll('[data-passkey-unsupported]').forEach(function (el) {
    el.hidden = supported;
  });
  if (!supported) return;

  /** POSTs JSON with the form's CSRF token; resolves to { ok, data } and never throws on an HTTP error. */
  async function post(form, url, body) {
    const csrf = form.querySelector('input[name="csrf"]');
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf ? csrf.value : '' },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await res.json();
    } catch (e) {
      data = {};
    }
    return { ok: res.ok, data: data };
  }

  function say(form, text) {
    const out = form.querySelector('[data-passkey-status]');
    if (!out) return;
    out.textContent = text || '';
    out.hidden = !text;
  }

  function busy(form, on) {
    const button = form.querySelector('button[type="submit"]');
    if (!button) return;
    if (on) {
      button.dataset.label = button.textContent;
      button.textContent = button.textContent.trim() + '…';
    } else if (button.dataset.label !== undefined) {
      button.textContent = button.dataset.label;
      delete button.dataset.label;
    }
    button.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  /** The browser's own words for a cancelled or refused ceremony, turned into ours. */
  function ceremonyMessage(err, verb) {
    const name = err && err.name;
    if (name === 'NotAllowedError' || name === 'AbortError') return 'The passkey request was cancelled or timed out.';
    if (name === 'InvalidStateError') return 'This device already has a passkey for your account.';
    return 'Your browser could not ' + verb + ' a passkey' + (err && err.message ? ': ' + err.message : '.');
  }

  /** One ceremony: options from the server, the browser's WebAuthn call, the result back to the server. */
  function handle(form, run) {
    form.addEventListener('submit', async function (event) {
      event.preventDefault(); // gatehouse.js leaves a prevented submit alone
      if (form.getAttribute('aria-busy') === 'true') return;
      say(form, '');
      busy(form, true);
      try {
        const options = await post(form, form.dataset.options, {});
        if (!options.ok) return say(form, options.data.message || 'Passkeys are not available right now.');
        let response;
        try {
          response = await run.browser(options.data);
        } catch (err) {
          return say(form, ceremonyMessage(err, run.verb));
        }
        const done = await post(form, form.dataset.verify, run.body(response));
        if (done.ok && done.data.redirect) return window.location.assign(done.data.redirect);
        say(form, done.data.message || 'That passkey was not accepted.');
      } catch (err) {
        say(form, 'Gatehouse could not be reached. Please try again.');
      } finally {
        busy(form, false);
      }
    });
  }

  document.querySelectorAll('form[data-passkey="sign-in"]').forEach(function (form) {
    const returnTo = form.querySelector('input[name="return_to"]');
    handle(form, {
      verb: 'use',
      browser: function (optionsJSON) {
        return lib.startAuthentication({ optionsJSON: optionsJSON });
      },
      body: function (response) {
        return { response: response, return_to: returnTo ? returnTo.value : '/' };
      },
    });
  });

  document.querySelectorAll('form[data-passkey="register"]').forEach(function (form) {
    const name = form.querySelector('input[name="passkey-name"]');
    handle(form, {
      verb: 'make',
      browser: function (optionsJSON) {
        return lib.startRegistration({ optionsJSON: optionsJSON });
      },
      body: function (response) {
        return { response: response, name: name ? name.value : '' };
      },
    });
  });
})();
