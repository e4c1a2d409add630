/*
 * LTI Client Side postMessages (platform side) for the Jejak test platform (MoodleSim).
 *
 * Loaded by the course page (which frames the tool) and by the hidden storage target frame
 * named "post_message_forwarding" (the name sent to the tool as `lti_storage_target`).
 * Answers, to the origin that asked:
 *   lti.capabilities -> lti.capabilities.response { supported_messages: [...] }
 *   lti.put_data     -> lti.put_data.response     { key, value }
 *   lti.get_data     -> lti.get_data.response     { key, value }   (value omitted when nothing stored)
 * Errors are answered as { subject: <subject>.response, message_id, error: { code, message } }
 * with the codes `bad_request` and `unsupported_subject`.
 * The legacy `org.imsglobal.lti.*` subjects are answered with the same prefix.
 * Values are stored per requesting origin (key/value per origin) in sessionStorage of the
 * platform origin (shared by the page and its same-origin frames), falling back to memory.
 * Every message handled is appended to window.__ltiPostMessageLog for tests.
 */
(function () {
  'use strict';
  var FRAME = 'post_message_forwarding';
  var PREFIX = 'lti-storage|';
  var memory = {};
  window.__ltiPostMessageLog = window.__ltiPostMessageLog || [];

  function storageKey(origin, key) {
    return PREFIX + origin + '|' + key;
  }
  function put(origin, key, value) {
    var k = storageKey(origin, key);
    try { window.sessionStorage.setItem(k, value); return; } catch (e) { /* fall back */ }
    memory[k] = value;
  }
  function get(origin, key) {
    var k = storageKey(origin, key);
    try {
      var v = window.sessionStorage.getItem(k);
      if (v !== null) return v;
    } catch (e) { /* fall back */ }
    return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : undefined;
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!data || typeof data !== 'object' || typeof data.subject !== 'string') return;
    var subject = data.subject;
    var legacy = subject.indexOf('org.imsglobal.') === 0;
    var bare = legacy ? subject.slice('org.imsglobal.'.length) : subject;
    if (bare.indexOf('lti.') !== 0) return;
    if (/\.response$/.test(bare)) return;
    var pre = legacy ? 'org.imsglobal.' : '';
    var target = event.source;
    if (!target) return;
    var origin = event.origin;
    function reply(msg) {
      window.__ltiPostMessageLog.push({ origin: origin, request: data, response: msg });
      target.postMessage(msg, origin === 'null' ? '*' : origin);
    }
    function fail(code, message) {
      reply({ subject: subject + '.response', message_id: data.message_id, error: { code: code, message: message } });
    }
    if (data.message_id === undefined || data.message_id === null || data.message_id === '') {
      fail('bad_request', 'message_id is required');
      return;
    }
    switch (bare) {
      case 'lti.capabilities':
        reply({
          subject: pre + 'lti.capabilities.response',
          message_id: data.message_id,
          supported_messages: [
            { subject: pre + 'lti.capabilities' },
            { subject: pre + 'lti.put_data', frame: FRAME },
            { subject: pre + 'lti.get_data', frame: FRAME }
          ]
        });
        return;
      case 'lti.put_data':
        if (typeof data.key !== 'string' || data.key === '') { fail('bad_request', 'key is required'); return; }
        if (typeof data.value !== 'string') { fail('bad_request', 'value must be a string'); return; }
        put(origin, data.key, data.value);
        reply({ subject: pre + 'lti.put_data.response', message_id: data.message_id, key: data.key, value: data.value });
        return;
      case 'lti.get_data':
        if (typeof data.key !== 'string' || data.key === '') { fail('bad_request', 'key is required'); return; }
        var msg = { subject: pre + 'lti.get_data.response', message_id: data.message_id, key: data.key };
        var value = get(origin, data.key);
        if (value !== undefined) msg.value = value;
        reply(msg);
        return;
      default:
        fail('unsupported_subject', 'unsupported subject ' + subject);
    }
  });
})();
