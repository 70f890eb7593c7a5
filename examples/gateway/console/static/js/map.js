// The live map: Leaflet with the configured tiles over a coordinate grid
// drawn in the page, so that it works with no tile server in reach.

import { h, clear, time } from './dom.js';

const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const maxTrack = 500;

// niceStep picks a grid spacing in degrees near span/3.
function niceStep(span) {
  const raw = span / 3;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmtDeg(v, step) {
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step))));
  return v.toFixed(digits);
}

// gridStep is the grid's spacing in degrees at a zoom: about three lines
// a tile.
function gridStep(zoom) { return niceStep(360 / Math.pow(2, zoom)); }

// gridLayer is a tile layer drawn on canvases: lines of latitude and
// longitude. Their values are written along the map's edges (gridLabels).
function gridLayer() {
  const Grid = L.GridLayer.extend({
    createTile(coords) {
      const size = this.getTileSize();
      const tile = document.createElement('canvas');
      tile.width = size.x;
      tile.height = size.y;
      const ctx = tile.getContext('2d');
      const map = this._map;
      const nwPoint = coords.scaleBy(size);
      const nw = map.unproject(nwPoint, coords.z);
      const se = map.unproject(nwPoint.add(size), coords.z);
      ctx.fillStyle = '#eef2f4';
      ctx.fillRect(0, 0, size.x, size.y);
      ctx.strokeStyle = '#c3ccd3';
      ctx.lineWidth = 1;
      const step = gridStep(coords.z);
      for (let lng = Math.ceil(nw.lng / step) * step; lng <= se.lng; lng += step) {
        const x = Math.round(map.project([0, lng], coords.z).x - nwPoint.x) + 0.5;
        ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, size.y); ctx.stroke();
      }
      for (let lat = Math.ceil(se.lat / step) * step; lat <= nw.lat; lat += step) {
        const y = Math.round(map.project([lat, 0], coords.z).y - nwPoint.y) + 0.5;
        ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(size.x, y); ctx.stroke();
      }
      return tile;
    },
  });
  return new Grid({ zIndex: 0, maxZoom: 19 });
}

// gridLabels writes the grid's values along the top (longitudes) and the
// left (latitudes) of the map, as the map moves.
function gridLabels(map) {
  const box = L.DomUtil.create('div', 'grid-labels', map.getContainer());
  const draw = () => {
    const step = gridStep(map.getZoom());
    const b = map.getBounds();
    const size = map.getSize();
    const labels = [];
    for (let lng = Math.ceil(b.getWest() / step) * step; lng <= b.getEast(); lng += step) {
      const x = map.latLngToContainerPoint([b.getNorth(), lng]).x;
      if (x > 60 && x < size.x - 40) labels.push(['lng', x, fmtDeg(lng, step) + '°']);
    }
    for (let lat = Math.ceil(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
      const y = map.latLngToContainerPoint([lat, b.getWest()]).y;
      if (y > 20 && y < size.y - 30) labels.push(['lat', y, fmtDeg(lat, step) + '°']);
    }
    box.replaceChildren(...labels.map(([kind, at, text]) => {
      const el = L.DomUtil.create('span', 'grid-label ' + kind);
      el.textContent = text;
      if (kind === 'lng') el.style.left = `${Math.round(at)}px`;
      else el.style.top = `${Math.round(at)}px`;
      return el;
    }));
  };
  map.on('move zoom resize', draw);
  draw();
}

// label is a marker's name as an element: Leaflet would read a string as
// HTML, and names come from devices and users.
function label(d) { return h('span', { text: d.name || `device ${d.id}` }); }

export class LiveMap {
  constructor(el, noteEl, legendEl, config) {
    this.legendEl = legendEl;
    this.noteEl = noteEl;
    this.map = L.map(el, { zoomControl: true, worldCopyJump: true }).setView([54.69, 25.28], 10);
    gridLayer().addTo(this.map);
    gridLabels(this.map);
    this.devices = new Map(); // id -> {marker, track, name, color, last}
    this.fitted = false;
    this.tiles = null;
    if (config.tiles) {
      this.tiles = L.tileLayer(config.tiles, { maxZoom: 19, zIndex: 1, attribution: config.tiles_attribution || '' });
      let loaded = 0;
      this.tiles.on('tileload', () => { loaded++; this.note(''); });
      this.tiles.on('tileerror', () => {
        if (loaded === 0) this.note(`Map tiles from ${new URL(config.tiles.replace(/\{[a-z]\}/g, '0')).host} cannot be loaded: showing a coordinate grid.`);
      });
      this.tiles.addTo(this.map);
    } else {
      this.note('No tile server is configured (-console-tiles): showing a coordinate grid.');
    }
  }

  note(text) { this.noteEl.textContent = text; }

  color(id) { return colors[id % colors.length]; }

  entry(id, name) {
    let d = this.devices.get(id);
    if (!d) {
      const color = this.color(id);
      d = { id, name, color, marker: null, track: L.polyline([], { color, weight: 3, opacity: 0.6, className: `track track-${id}` }).addTo(this.map), last: null };
      this.devices.set(id, d);
    }
    if (name) d.name = name;
    return d;
  }

  // keep shows only these devices (the table's selection).
  keep(ids) {
    for (const [id, d] of this.devices) {
      if (!ids.has(id)) {
        if (d.marker) d.marker.remove();
        d.track.remove();
        this.devices.delete(id);
      }
    }
    this.legend();
  }

  // setTrack replaces a device's track with points [[lat, lon, ts]…], oldest first.
  setTrack(id, name, points) {
    const d = this.entry(id, name);
    d.track.setLatLngs(points.slice(-maxTrack).map((p) => [p[0], p[1]]));
    const last = points[points.length - 1];
    if (last && (!d.last || last[2] >= d.last.ts)) this.place(d, last[0], last[1], last[2]);
  }

  // position moves a device's marker and extends its track.
  position(id, name, lat, lon, ts) {
    const d = this.entry(id, name);
    if (d.last && ts < d.last.ts) return; // an older message does not move the marker back
    d.track.addLatLng([lat, lon]);
    const pts = d.track.getLatLngs();
    if (pts.length > maxTrack) d.track.setLatLngs(pts.slice(-maxTrack));
    this.place(d, lat, lon, ts);
  }

  place(d, lat, lon, ts) {
    d.last = { lat, lon, ts };
    if (!d.marker) {
      d.marker = L.circleMarker([lat, lon], { radius: 7, color: '#fff', weight: 2, fillColor: d.color, fillOpacity: 1, className: `marker marker-${d.id}` })
        .bindTooltip(label(d), { permanent: true, direction: 'right', offset: [8, 0], className: 'marker-label' })
        .addTo(this.map);
    } else {
      d.marker.setLatLng([lat, lon]);
      d.marker.setTooltipContent(label(d));
    }
    this.legend();
  }

  // fit shows every device once there are positions.
  fit(force = false) {
    if (this.fitted && !force) return;
    const pts = [];
    for (const d of this.devices.values()) if (d.last) pts.push([d.last.lat, d.last.lon]);
    if (pts.length === 0) return;
    this.fitted = true;
    if (pts.length === 1) this.map.setView(pts[0], 14);
    else this.map.fitBounds(pts, { padding: [40, 40], maxZoom: 15 });
  }

  focus(id) {
    const d = this.devices.get(id);
    if (d && d.last) this.map.setView([d.last.lat, d.last.lon], Math.max(this.map.getZoom(), 14));
  }

  legend() {
    if (this.legendTimer) return;
    this.legendTimer = setTimeout(() => {
      this.legendTimer = null;
      const rows = [...this.devices.values()].filter((d) => d.last).sort((a, b) => a.id - b.id).map((d) =>
        h('tr', { dataset: { device: d.id }, class: 'legend-row' },
          h('td', {}, h('span', { class: 'swatch', dataset: { color: d.color } }), d.name || `device ${d.id}`),
          h('td', { class: 'mono position' }, `${d.last.lat.toFixed(6)}, ${d.last.lon.toFixed(6)}`),
          h('td', { class: 'muted' }, time(d.last.ts))));
      clear(this.legendEl.tBodies[0]).append(...rows);
      for (const s of this.legendEl.querySelectorAll('.swatch')) s.style.background = s.dataset.color;
    }, 100);
  }

  invalidate() { this.map.invalidateSize(); }
}
