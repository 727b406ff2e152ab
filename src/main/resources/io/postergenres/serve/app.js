// The poster-genres page: sends the chosen poster to /api/v1/classify and draws the answer.
(function () {
  const $ = (id) => document.getElementById(id);

  fetch('/health').then((r) => r.json()).then((h) => {
    $('model').textContent = 'Model ' + h.model.name + ' ' + h.model.version;
  }).catch(() => { $('model').textContent = 'Model information unavailable'; });

  function showError(message) {
    $('error').textContent = message;
    $('error').hidden = false;
  }

  async function classify(file) {
    $('error').hidden = true;
    $('preview').src = URL.createObjectURL(file);
    $('result').hidden = false;
    $('genres').replaceChildren();
    $('scores').replaceChildren();
    $('timing').textContent = 'Classifying…';
    let body;
    try {
      const response = await fetch('/api/v1/classify', { method: 'POST', body: file });
      body = await response.json();
      if (!response.ok) {
        $('timing').textContent = '';
        showError(body.message || ('Error ' + response.status));
        return;
      }
    } catch (e) {
      $('timing').textContent = '';
      showError('The server did not answer: ' + e);
      return;
    }
    for (const g of body.genres) {
      const li = document.createElement('li');
      li.textContent = g;
      li.className = 'genre';
      $('genres').appendChild(li);
    }
    for (const [genre, score] of Object.entries(body.scores)) {
      const row = document.createElement('div');
      row.className = 'score' + (body.genres.includes(genre) ? ' chosen' : '');
      row.dataset.genre = genre;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = genre;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = (100 * score).toFixed(1) + '%';
      bar.appendChild(fill);
      const value = document.createElement('span');
      value.className = 'value';
      value.textContent = score.toFixed(3);
      row.append(name, bar, value);
      $('scores').appendChild(row);
    }
    $('timing').textContent = 'Answered in ' + body.timing_ms.total.toFixed(1) + ' ms by ' +
      body.model.name + ' ' + body.model.version;
  }

  $('file').addEventListener('change', (e) => {
    if (e.target.files.length) classify(e.target.files[0]);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files.length) classify(e.dataTransfer.files[0]);
  });
})();
