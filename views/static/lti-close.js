// Dynamic Registration 1.0: tell the platform the registration window can close.
(function () {
  function close() {
    (window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
  }
  close();
  var button = document.getElementById('lti-close');
  if (button) button.addEventListener('click', close);
})();
