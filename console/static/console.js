// The staff console's only script (the Content-Security-Policy allows no
// inline script). Every page works without it; it only helps.
(function () {
  'use strict';

  // A form is sent once: a double click, or a scanner's second Enter,
  // does not post it twice. Forms may ask for a confirmation first.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-once')) {
      return;
    }
    if (form.getAttribute('data-sent') === '1') {
      e.preventDefault();
      return;
    }
    var ask = form.getAttribute('data-confirm');
    if (ask && !window.confirm(ask)) {
      e.preventDefault();
      return;
    }
    form.setAttribute('data-sent', '1');
    form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = true; });
  }, true);

  // Coming back with the browser's Back button: the forms work again.
  window.addEventListener('pageshow', function () {
    document.querySelectorAll('form[data-sent]').forEach(function (form) {
      form.removeAttribute('data-sent');
      form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = false; });
    });
  });

  // Choosing another hall shows its list at once.
  document.querySelectorAll('select[data-autosubmit]').forEach(function (s) {
    s.addEventListener('change', function () { s.form.submit(); });
  });

  // The hall's list follows the day: it reloads every minute while the
  // check-in field is empty (nobody is typing or scanning a code).
  var day = document.querySelector('[data-refresh]');
  var code = document.getElementById('code');
  if (day && code) {
    var every = parseInt(day.getAttribute('data-refresh'), 10) * 1000;
    window.setInterval(function () {
      if (code.value === '' && document.visibilityState === 'visible') {
        window.location.replace(day.getAttribute('data-refresh-url'));
      }
    }, every);
  }
})();
