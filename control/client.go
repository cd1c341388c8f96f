package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onpath/flow"
)

// Client is a Backend that asks the proxy running on a data dir.
type Client struct {
	http *http.Client
}

// Dial connects to the control socket at path. It returns an error
// wrapping ErrNoServer when nothing answers there.
func Dial(path string) (*Client, error) {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return nil, fmt.Errorf("control: %s: %w", path, ErrNoServer)
	}
	c.Close()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &Client{http: &http.Client{Transport: tr}}, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func (c *Client) do(ctx context.Context, method, path string, q string, body any) (*http.Response, error) {
	u := "http://onpath" + path
	if q != "" {
		u += "?q=" + url.QueryEscape(q)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		text := strings.TrimSpace(string(msg))
		switch resp.StatusCode {
		case http.StatusNotFound:
			return nil, &kindError{text, ErrNotFound}
		case http.StatusBadRequest:
			return nil, &kindError{text, ErrBadRequest}
		}
		return nil, errors.New(text)
	}
	return resp, nil
}

func decodeStream[T any](resp *http.Response, fn func(T) error) error {
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<30)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte(`{"error":`)) {
			var se streamError
			if json.Unmarshal(line, &se) == nil && se.Error != "" {
				return errors.New(se.Error)
			}
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return fmt.Errorf("control: decode reply: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return sc.Err()
}

func decodeOne[T any](resp *http.Response) (T, error) {
	defer resp.Body.Close()
	var v T
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return v, fmt.Errorf("control: decode reply: %w", err)
	}
	return v, nil
}

func (c *Client) Summaries(ctx context.Context, query string, fn func(flow.Summary) error) error {
	resp, err := c.do(ctx, http.MethodGet, "/summaries", query, nil)
	if err != nil {
		return err
	}
	return decodeStream(resp, fn)
}

func (c *Client) Flows(ctx context.Context, query string, fn func(*flow.Flow) error) error {
	resp, err := c.do(ctx, http.MethodGet, "/flows", query, nil)
	if err != nil {
		return err
	}
	return decodeStream(resp, fn)
}

func (c *Client) Flow(ctx context.Context, id flow.ID) (*flow.Flow, error) {
	resp, err := c.do(ctx, http.MethodGet, "/flows/"+strconv.FormatUint(uint64(id), 10), "", nil)
	if err != nil {
		return nil, err
	}
	return decodeOne[*flow.Flow](resp)
}

func (c *Client) Replay(ctx context.Context, r ReplayRequest) (*flow.Flow, error) {
	resp, err := c.do(ctx, http.MethodPost, "/replay", "", r)
	if err != nil {
		return nil, err
	}
	return decodeOne[*flow.Flow](resp)
}

func (c *Client) Import(ctx context.Context, flows []*flow.Flow) (ImportResult, error) {
	resp, err := c.do(ctx, http.MethodPost, "/import", "", flows)
	if err != nil {
		return ImportResult{}, err
	}
	return decodeOne[ImportResult](resp)
}

func (c *Client) Clear(ctx context.Context, query string) (int, error) {
	resp, err := c.do(ctx, http.MethodPost, "/clear", query, nil)
	if err != nil {
		return 0, err
	}
	res, err := decodeOne[countResult](resp)
	return res.Count, err
}

func (c *Client) Recompute(ctx context.Context, query string) (int, error) {
	resp, err := c.do(ctx, http.MethodPost, "/recompute", query, nil)
	if err != nil {
		return 0, err
	}
	res, err := decodeOne[countResult](resp)
	return res.Count, err
}
