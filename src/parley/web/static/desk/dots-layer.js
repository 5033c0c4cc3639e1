// Every track as a dot in its side's colour: a MapLibre custom layer (WebGL points) drawn from the
// worker's typed arrays, so an update of 10,000 tracks is one buffer upload, not a re-tiled
// GeoJSON source. The crowded view (layers.js) shows it below zoom 7. Mercator projection only
// (the desk's style): positions are Web Mercator x, y in 0..1, projected with the map's matrix.
// A dark track (transponder off) is a ring, not a filled dot.

const VERTEX = `
attribute vec2 a_pos;
attribute vec4 a_colour;
attribute float a_dark;
uniform mat4 u_matrix;
uniform float u_size;
varying vec4 v_colour;
varying float v_dark;
void main() {
  gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0);
  gl_PointSize = u_size;
  v_colour = a_colour;
  v_dark = a_dark;
}`;
const FRAGMENT = `
precision mediump float;
varying vec4 v_colour;
varying float v_dark;
void main() {
  float r = length(gl_PointCoord - vec2(0.5)) * 2.0;
  if (r > 1.0) discard;
  if (v_dark > 0.5 && r < 0.55) discard;
  gl_FragColor = vec4(v_colour.rgb * v_colour.a, v_colour.a);
}`;
// CSS pixels: the dot's diameter, and how near a click must be to pick a dot.
const DOT_PIXELS = 5;
export const PICK_PIXELS = 6;

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
  return shader;
}

function rgb(hex) {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

export class DotsLayer {
  // colourOf(side) -> "#rrggbb"
  constructor(id, colourOf) {
    this.id = id;
    this.type = "custom";
    this.renderingMode = "2d";
    this.colourOf = colourOf;
    this.count = 0;
    this.visible = true;
    this.pending = null;
    this.drawn = 0; // points drawn by the latest frame (the first-picture mark reads it)
  }

  onAdd(map, gl) {
    this.map = map;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    this.program = program;
    this.position = gl.getAttribLocation(program, "a_pos");
    this.colour = gl.getAttribLocation(program, "a_colour");
    this.darkness = gl.getAttribLocation(program, "a_dark");
    this.matrix = gl.getUniformLocation(program, "u_matrix");
    this.size = gl.getUniformLocation(program, "u_size");
    this.positions = gl.createBuffer();
    this.colours = gl.createBuffer();
    this.darks = gl.createBuffer();
    this.capacity = 0;
  }

  // The tracks (a TrackTable): uploaded at the next frame the map draws.
  setTracks(table) {
    this.pending = table;
    this.map?.triggerRepaint();
  }

  #upload(gl, table) {
    const n = table.n;
    const xy = new Float32Array(2 * n);
    const colours = new Uint8Array(4 * n);
    const palette = table.sides.map((side) => rgb(this.colourOf(side)));
    let drawn = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(table.columns.time[i])) continue; // not reported yet
      xy[2 * drawn] = table.x[i];
      xy[2 * drawn + 1] = table.y[i];
      const [r, g, b] = palette[table.side[i]] ?? [255, 214, 10];
      colours.set([r, g, b, 255], 4 * drawn);
      drawn++;
    }
    const darks = new Float32Array(drawn);
    for (let i = 0, k = 0; i < n; i++) if (Number.isFinite(table.columns.time[i])) darks[k++] = table.dark[i];
    const grow = drawn > this.capacity;
    if (grow) this.capacity = Math.max(1024, 2 * drawn);
    // one buffer each, reallocated only when the tracks outgrow it: an update is a subdata upload
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positions);
    if (grow) gl.bufferData(gl.ARRAY_BUFFER, 8 * this.capacity, gl.DYNAMIC_DRAW);
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, xy.subarray(0, 2 * drawn));
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colours);
    if (grow) gl.bufferData(gl.ARRAY_BUFFER, 4 * this.capacity, gl.DYNAMIC_DRAW);
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, colours.subarray(0, 4 * drawn));
    gl.bindBuffer(gl.ARRAY_BUFFER, this.darks);
    if (grow) gl.bufferData(gl.ARRAY_BUFFER, 4 * this.capacity, gl.DYNAMIC_DRAW);
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, darks);
    this.count = drawn;
  }

  render(gl, options) {
    if (this.pending) {
      this.#upload(gl, this.pending);
      this.pending = null;
    }
    this.drawn = 0;
    if (!this.visible || this.count === 0) return;
    gl.useProgram(this.program);
    gl.uniformMatrix4fv(this.matrix, false, options.defaultProjectionData.mainMatrix);
    gl.uniform1f(this.size, DOT_PIXELS * window.devicePixelRatio);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positions);
    gl.enableVertexAttribArray(this.position);
    gl.vertexAttribPointer(this.position, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colours);
    gl.enableVertexAttribArray(this.colour);
    gl.vertexAttribPointer(this.colour, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.darks);
    gl.enableVertexAttribArray(this.darkness);
    gl.vertexAttribPointer(this.darkness, 1, gl.FLOAT, false, 0, 0);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.drawArrays(gl.POINTS, 0, this.count);
    gl.disableVertexAttribArray(this.position);
    gl.disableVertexAttribArray(this.colour);
    gl.disableVertexAttribArray(this.darkness);
    this.drawn = this.count;
  }
}

// The track nearest the screen point `point` (map pixels) within PICK_PIXELS, or null: a scan of
// the typed arrays (10,000 tracks: well under a millisecond).
export function pickTrack(map, table, point) {
  const world = 512 * 2 ** map.getZoom(); // CSS pixels across the Mercator world at this zoom
  const clicked = map.unproject(point);
  const cx = (clicked.lng + 180) / 360;
  const phi = (clicked.lat * Math.PI) / 180;
  const cy = (1 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / Math.PI) / 2;
  const reach = PICK_PIXELS / world;
  let best = null;
  let bestDistance = reach * reach;
  for (let i = 0; i < table.n; i++) {
    if (!Number.isFinite(table.columns.time[i])) continue;
    const dx = table.x[i] - cx;
    const dy = table.y[i] - cy;
    const distance = dx * dx + dy * dy;
    if (distance <= bestDistance) {
      bestDistance = distance;
      best = i;
    }
  }
  return best === null ? null : table.ids[best];
}
