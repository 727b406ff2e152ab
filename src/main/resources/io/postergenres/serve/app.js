// The poster-genres page: sends the chosen poster to /api/v1/classify and says, in plain words first,
// which genres it got and why, then every score beside its threshold.
(function () {
  const $ = (id) => document.getElementById(id);

  fetch('/health').then((r) => r.json()).then((h) => {
    $('model').textContent = 'Model ' + h.model.name + ' ' + h.model.version;
  }).catch(() => { $('model').textContent = 'Model information unavailable'; });

  // What went wrong, for a person; the server's own message follows as a detail.
  const PLAIN = {
    corrupt: 'This file could not be read as an image: it looks damaged or cut short. Try another copy of the poster.',
    empty: 'This file is empty.',
    unsupported_format: 'This is not an image the model takes. Choose a JPEG, PNG, GIF or BMP file.',
    too_many_pixels: 'This image has too many pixels to decode here. Choose a smaller version of the poster.',
    too_large_file: 'This file is too large to upload here. Choose a smaller version of the poster.',
    inference_error: 'The model could not score this poster.',
    timeout: 'The model is busy and did not answer in time. Try again in a moment.',
  };

  function showError(kind, message) {
    $('result').hidden = true;
    $('error-text').textContent = PLAIN[kind] || 'The poster could not be classified.';
    $('error-detail').textContent = message ? 'Details: ' + message : '';
    $('error').hidden = false;
  }

  function list(words) {
    return words.length <= 1 ? words.join('') : words.slice(0, -1).join(', ') + ' and ' + words[words.length - 1];
  }

  // Why a genre over its threshold was left out, or one under it given: the model's genre-count rules.
  function notes(body) {
    const given = body.genres;
    // With serve --read-text: the words the model read on the poster, which moved its scores.
    if (Array.isArray(body.text)) {
      $('read').textContent = body.text.length
        ? 'Words read on the poster: ' + body.text.map((l) => '“' + l + '”').join(', ') + '.'
        : 'No words could be read on the poster.';
      $('read').hidden = false;
    }
    const thresholds = body.thresholds || {};
    const out = [];
    const over = Object.keys(body.scores).filter((g) => g in thresholds && body.scores[g] >= thresholds[g]);
    const left = over.filter((g) => !given.includes(g));
    if (left.length) {
      out.push(list(left.map((g) => g + ' (' + body.scores[g].toFixed(3) + ', threshold ' + thresholds[g] + ')')) +
        (left.length === 1 ? ' is' : ' are') + ' over the threshold but not given: the model gives at most ' +
        given.length + ' genres per poster, highest scores first.');
    }
    const topped = given.filter((g) => g in thresholds && body.scores[g] < thresholds[g]);
    if (topped.length) {
      out.push(list(topped) + (topped.length === 1 ? ' is' : ' are') +
        ' under the threshold but given: the model gives every poster at least ' + given.length + ' genre' +
        (given.length === 1 ? '' : 's') + '.');
    }
    return out.join(' ');
  }

  async function classify(file) {
    $('error').hidden = true;
    $('result').hidden = true;
    $('genres').replaceChildren();
    $('scores').replaceChildren();
    $('notes').hidden = true;
    $('read').hidden = true;
    $('details').hidden = true;
    $('preview').hidden = true;
    $('verdict').textContent = '';
    $('timing').textContent = 'Classifying…';
    $('result').hidden = false;
    let body;
    try {
      const response = await fetch('/api/v1/classify', { method: 'POST', body: file });
      body = await response.json();
      if (!response.ok) {
        $('timing').textContent = '';
        showError(body.error, body.message || ('HTTP status ' + response.status));
        return;
      }
    } catch (e) {
      $('timing').textContent = '';
      showError('', 'the server did not answer: ' + e);
      return;
    }
    $('preview').src = URL.createObjectURL(file);
    $('preview').hidden = false;
    $('verdict').textContent = body.genres.length
      ? 'This poster looks like ' + list(body.genres) + '.'
      : 'The model gives this poster no genre.';
    for (const g of body.genres) {
      const li = document.createElement('li');
      li.textContent = g;
      li.className = 'genre';
      $('genres').appendChild(li);
    }
    const why = notes(body);
    if (why) {
      $('notes').textContent = why;
      $('notes').hidden = false;
    }
    const thresholds = body.thresholds || {};
    const sorted = Object.entries(body.scores).sort((a, b) => b[1] - a[1]);
    for (const [genre, score] of sorted) {
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
      if (genre in thresholds) {
        const mark = document.createElement('span');
        mark.className = 'threshold';
        mark.style.left = (100 * thresholds[genre]).toFixed(1) + '%';
        mark.title = 'threshold ' + thresholds[genre];
        bar.appendChild(mark);
      }
      const value = document.createElement('span');
      value.className = 'value';
      value.textContent = score.toFixed(3) + (genre in thresholds ? ' / ' + thresholds[genre] : '');
      row.append(name, bar, value);
      $('scores').appendChild(row);
    }
    $('details').hidden = sorted.length === 0;
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
