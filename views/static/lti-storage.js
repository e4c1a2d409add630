// LTI Client Side postMessage storage: keep the launch state in the platform's frame when the browser
// refuses the tool's cookies inside the LMS iframe.
(function () {
  var el = document.getElementById('lti-storage');
  if (!el) return;
  var d = el.dataset;
  var messageId = 'jejak-' + Math.random().toString(36).slice(2);
  var parentWindow = window.opener || window.parent;
  var target = d.target === '_parent' ? parentWindow : parentWindow.frames[d.target];
  function fail() { document.getElementById('lti-storage-failed').hidden = false; }
  if (!target) return fail();
  var timer = setTimeout(fail, 5000);
  window.addEventListener('message', function (event) {
    if (event.origin !== d.origin || !event.data || event.data.message_id !== messageId) return;
    clearTimeout(timer);
    if (event.data.error) return fail();
    if (event.data.subject === 'lti.put_data.response') {
      window.location.href = d.next;
    } else if (event.data.subject === 'lti.get_data.response') {
      var form = document.getElementById('lti-storage-form');
      form.elements.platform_binding.value = event.data.value || '';
      form.submit();
    }
  });
  var message = d.mode === 'put'
    ? { subject: 'lti.put_data', message_id: messageId, key: d.key, value: d.value }
    : { subject: 'lti.get_data', message_id: messageId, key: d.key };
  target.postMessage(message, d.origin);
})();
