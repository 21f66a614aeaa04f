// Package chromiumtest loads a page in headless Chromium for tests and
// reports what a person's browser would have done with it: console errors,
// network requests, the charts without a text alternative, and a
// screenshot. It speaks the DevTools protocol over --remote-debugging-pipe
// (JSON messages separated by NUL bytes on file descriptors 3 and 4), so
// it needs no websocket and no module beyond the standard library.
package chromiumtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Path is where Debian's chromium package installs the browser.
const Path = "/usr/bin/chromium"

// Find returns the Chromium to use: $ARSYNC_CHROMIUM, else Path; ok is
// false when there is none.
func Find() (string, bool) {
	p := os.Getenv("ARSYNC_CHROMIUM")
	if p == "" {
		p = Path
	}
	if _, err := os.Stat(p); err != nil {
		p, err = exec.LookPath("chromium")
		if err != nil {
			return "", false
		}
	}
	return p, true
}

// Need skips t when there is no Chromium, and fails it in CI (CI=true),
// whose .ci/run installs Debian's chromium package.
func Need(t testing.TB) string {
	t.Helper()
	p, ok := Find()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s: .ci/run installs Debian's chromium package", Path)
		}
		t.Skipf("no Chromium at %s (apt-get install chromium, or set ARSYNC_CHROMIUM): the page is not rendered", Path)
	}
	return p
}

// Result is what loading a page did.
type Result struct {
	// ConsoleErrors are console.error calls, uncaught exceptions and the
	// browser's own error log entries (a blocked load, a policy violation).
	ConsoleErrors []string
	// Requests are the URLs requested besides the page itself.
	Requests []string
	// Unlabelled are the <svg> elements without role="img" and a
	// non-empty accessible name (aria-labelledby or aria-label), by the
	// start of their markup.
	Unlabelled []string
	// SVGs counts the <svg> elements.
	SVGs int
	// Screenshot is a PNG of the page's top, Width wide, when asked for.
	Screenshot []byte
}

// Options say how to load.
type Options struct {
	Width, MaxHeight int // the screenshot's width and largest height (CSS pixels); 0: no screenshot
}

// unlabelledJS lists the svg elements that lack a text alternative. Run
// through DevTools, which the page's Content-Security-Policy does not
// restrict.
const unlabelledJS = `JSON.stringify((() => {
  const svgs = [...document.querySelectorAll('svg')];
  const named = s => {
    const by = (s.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    if (by.length) return by.every(id => { const e = document.getElementById(id); return e && e.textContent.trim() !== ''; });
    return (s.getAttribute('aria-label') || '').trim() !== '';
  };
  return {count: svgs.length, bad: svgs.filter(s => !(s.getAttribute('role') === 'img' && named(s))).map(s => s.outerHTML.slice(0, 120))};
})())`

// Load opens file (a path on disk) in a fresh headless Chromium with no
// network and no profile, waits for its load event, and reports.
func Load(ctx context.Context, chromium, file string, o Options) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp("", "arsync-chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	toBrowser, fromUs, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	fromBrowser, toUs, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, toUs} // fd 3: it reads; fd 4: it writes
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", chromium, err)
	}
	toBrowser.Close()
	toUs.Close()
	c := newConn(fromUs, fromBrowser)
	defer func() {
		_, _ = c.call(ctx, "", "Browser.close", nil)
		fromUs.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		fromBrowser.Close()
	}()
	res, err := c.load(ctx, file, o)
	if err != nil {
		return nil, fmt.Errorf("%w (chromium said: %s)", err, lastLines(stderr.String(), 5))
	}
	return res, nil
}

func (c *conn) load(ctx context.Context, file string, o Options) (*Result, error) {
	t, err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		return nil, err
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(t, &target)
	a, err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		return nil, err
	}
	var att struct{ SessionID string }
	_ = json.Unmarshal(a, &att)
	s := att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if _, err := c.call(ctx, s, m, nil); err != nil {
			return nil, err
		}
	}
	if o.Width > 0 {
		if _, err := c.call(ctx, s, "Emulation.setDeviceMetricsOverride",
			map[string]any{"width": o.Width, "height": 900, "deviceScaleFactor": 1, "mobile": false}); err != nil {
			return nil, err
		}
	}
	url := "file://" + file
	loaded := c.waitFor("Page.loadEventFired")
	if _, err := c.call(ctx, s, "Page.navigate", map[string]any{"url": url}); err != nil {
		return nil, err
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the page to load: %w", ctx.Err())
	}
	ev, err := c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": unlabelledJS, "returnByValue": true})
	if err != nil {
		return nil, err
	}
	var out struct {
		Result struct{ Value string }
	}
	_ = json.Unmarshal(ev, &out)
	var svg struct {
		Count int
		Bad   []string
	}
	if err := json.Unmarshal([]byte(out.Result.Value), &svg); err != nil {
		return nil, fmt.Errorf("reading the svg check %q: %w", out.Result.Value, err)
	}
	res := &Result{SVGs: svg.Count, Unlabelled: svg.Bad}
	if o.Width > 0 {
		lm, err := c.call(ctx, s, "Page.getLayoutMetrics", nil)
		if err != nil {
			return nil, err
		}
		var m struct{ CSSContentSize struct{ Height float64 } }
		_ = json.Unmarshal(lm, &m)
		h := min(int(m.CSSContentSize.Height), o.MaxHeight)
		shot, err := c.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
			"clip": map[string]any{"x": 0, "y": 0, "width": o.Width, "height": h, "scale": 1}})
		if err != nil {
			return nil, err
		}
		var img struct{ Data string }
		_ = json.Unmarshal(shot, &img)
		if res.Screenshot, err = base64.StdEncoding.DecodeString(img.Data); err != nil {
			return nil, fmt.Errorf("decoding the screenshot: %w", err)
		}
	}
	// Every event up to the last answer has been read: collect them.
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.events {
		switch e.Method {
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string
				Args []struct {
					Value       any
					Description string
				}
			}
			_ = json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "assert" {
				var parts []string
				for _, a := range p.Args {
					parts = append(parts, fmt.Sprint(firstNonNil(a.Value, a.Description)))
				}
				res.ConsoleErrors = append(res.ConsoleErrors, "console."+p.Type+": "+strings.Join(parts, " "))
			}
		case "Runtime.exceptionThrown":
			var p struct {
				ExceptionDetails struct {
					Text      string
					Exception struct{ Description string }
				}
			}
			_ = json.Unmarshal(e.Params, &p)
			res.ConsoleErrors = append(res.ConsoleErrors, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Source, Text, URL string }
			}
			_ = json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" {
				res.ConsoleErrors = append(res.ConsoleErrors, p.Entry.Source+": "+p.Entry.Text+" "+p.Entry.URL)
			}
		case "Network.requestWillBeSent":
			var p struct {
				Request struct{ URL string }
			}
			_ = json.Unmarshal(e.Params, &p)
			if p.Request.URL != url {
				res.Requests = append(res.Requests, p.Request.URL)
			}
		}
	}
	return res, nil
}

func firstNonNil(a any, b string) any {
	if a != nil {
		return a
	}
	return b
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// conn is one DevTools connection over the pipe.
type conn struct {
	w      *os.File
	wmu    sync.Mutex
	mu     sync.Mutex
	nextID int
	calls  map[int]chan message
	events []message
	waits  map[string][]chan struct{}
	closed error
}

type message struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func newConn(w, r *os.File) *conn {
	c := &conn{w: w, calls: map[int]chan message{}, waits: map[string][]chan struct{}{}}
	go c.read(r)
	return c
}

func (c *conn) read(r *os.File) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			c.mu.Lock()
			c.closed = fmt.Errorf("the browser closed the DevTools pipe: %w", err)
			for id, ch := range c.calls {
				close(ch)
				delete(c.calls, id)
			}
			c.mu.Unlock()
			return
		}
		var m message
		if json.Unmarshal(bytes.TrimSuffix(raw, []byte{0}), &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.calls[m.ID]; ok {
				ch <- m
				delete(c.calls, m.ID)
			}
		} else {
			c.events = append(c.events, m)
			for _, ch := range c.waits[m.Method] {
				close(ch)
			}
			delete(c.waits, m.Method)
		}
		c.mu.Unlock()
	}
}

// waitFor returns a channel closed at the next event named method.
func (c *conn) waitFor(method string) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	c.waits[method] = append(c.waits[method], ch)
	c.mu.Unlock()
	return ch
}

// call sends a command and waits for its answer.
func (c *conn) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	if c.closed != nil {
		c.mu.Unlock()
		return nil, c.closed
	}
	c.nextID++
	id := c.nextID
	ch := make(chan message, 1)
	c.calls[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if session != "" {
		msg["sessionId"] = session
	}
	if params != nil {
		msg["params"] = params
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	c.wmu.Lock()
	_, err = c.w.Write(append(b, 0))
	c.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: %w", method, errors.New("no answer: the browser is gone"))
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		return m.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}
