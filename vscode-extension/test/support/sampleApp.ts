/**
 * A small program to reload: an HTTP server whose answer comes from
 * `app/views.py`, started under the agent. Tests change `greet()` and ask the
 * server what it says now.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const VIEWS_V1 = `"""Views of the sample app."""


def greet():
    return "hello"
`;

export function viewsSaying(word: string): string {
  return VIEWS_V1.replace('"hello"', JSON.stringify(word));
}

const MAIN = `import http.server
import os
import sys

from app import views


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = views.greet().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = "port.txt.tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.replace(tmp, "port.txt")
server.serve_forever()
`;

/** Writes the app into `dir` (main.py, app/__init__.py, app/views.py). */
export function writeSampleApp(dir: string): void {
  fs.mkdirSync(path.join(dir, 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.py'), MAIN);
  fs.writeFileSync(path.join(dir, 'app', '__init__.py'), '');
  fs.writeFileSync(path.join(dir, 'app', 'views.py'), VIEWS_V1);
}
