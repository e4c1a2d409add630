// Keeps the class view current while the class works: the page is fetched again and its live part
// replaced when the server says a student answered (server-sent events), and every 20 s anyway
// (while the tab is visible). Without JavaScript the page works the same by reload.
(function () {
  var live = document.getElementById('live');
  if (!live || !window.fetch || !window.DOMParser) return;
  var url = live.getAttribute('data-refresh');
  var pending = null;
  function refresh() {
    if (document.visibilityState !== 'visible') return;
    fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var next = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
        // Keyboard users keep their place: skip a refresh while focus is inside the live part.
        if (next && !live.contains(document.activeElement)) live.innerHTML = next.innerHTML;
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }
  setInterval(refresh, 20000);
  var events = live.getAttribute('data-events');
  if (events && window.EventSource) {
    // A class answers many times a second: one refresh per 2 s at most. A refreshed course roster
    // (students enrolled since) comes the same way.
    var soon = function () {
      if (pending) return;
      pending = setTimeout(function () { pending = null; refresh(); }, 2000);
    };
    var source = new EventSource(events);
    source.addEventListener('answer', soon);
    source.addEventListener('roster', soon);
  }
})();
