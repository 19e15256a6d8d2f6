package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
)

// staticPageCmd writes the static upstream's page of bench/run.sh
// (BENCH_UPSTREAM=static): a console-like HTML document of exactly -size
// bytes (a head with a title and a stylesheet, a body with a navigation
// bar and a table of resources), served by nginx as the upstream.
//
//	setup staticpage -out FILE [-size 32768]
func staticPageCmd(args []string) error {
	fs := flag.NewFlagSet("staticpage", flag.ContinueOnError)
	out := fs.String("out", "", "file to write")
	size := fs.Int("size", 32<<10, "page size in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("staticpage: -out is required")
	}
	page, err := staticPage(*size)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, page, 0o644)
}

// staticPage returns a page of exactly size bytes, or an error when size is
// too small for its head and frame.
func staticPage(size int) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Cloud console — resources</title>\n" +
		"<style>body{font-family:system-ui,sans-serif;margin:0}nav{background:#223;color:#fff;padding:8px 16px}" +
		"table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}</style>\n" +
		"</head>\n<body>\n<nav><a href=\"/\">Overview</a> · <a href=\"/instances\">Instances</a> · <a href=\"/billing\">Billing</a></nav>\n" +
		"<main>\n<h1>Resources</h1>\n<table>\n<tr><th>ID</th><th>Name</th><th>Region</th><th>State</th><th>Created</th></tr>\n")
	const tail = "</table>\n</main>\n</body>\n</html>\n"
	for i := 1; ; i++ {
		row := fmt.Sprintf("<tr><td>ins-%06d</td><td>web-server-%d</td><td>cn-east-%d</td><td>running</td><td>2026-11-%02d</td></tr>\n",
			i, i, i%4+1, i%28+1)
		if b.Len()+len(row)+len(tail) > size {
			break
		}
		b.WriteString(row)
	}
	pad := size - b.Len() - len(tail)
	if pad < 0 {
		return nil, fmt.Errorf("staticpage: %d bytes is too small for the page's frame", size)
	}
	if pad >= 8 {
		b.WriteString("<!--")
		b.Write(bytes.Repeat([]byte{' '}, pad-8))
		b.WriteString("-->\n")
	} else {
		b.Write(bytes.Repeat([]byte{'\n'}, pad))
	}
	b.WriteString(tail)
	return b.Bytes(), nil
}
