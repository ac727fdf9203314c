// testbed-helper holds the small jobs of testbed/real-cluster that bash does
// badly:
//
//	testbed-helper free-ports N
//	    prints N distinct free TCP ports on 127.0.0.1, one per line.
//	testbed-helper loopback-proxy 127.0.0.1:PORT|unix:PATH...
//	    an HTTP CONNECT proxy that only reaches loopback addresses. The
//	    kube-apiserver's "cluster" egress (pod/service/node proxy, logs, exec,
//	    webhooks, aggregated APIs) goes through it on the Unix socket, and the
//	    other processes' HTTP(S)_PROXY through the TCP port, so a request that
//	    would reach a pod or Service IP (data only in this testbed) is refused
//	    instead of leaving the machine.
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "free-ports":
		if len(os.Args) != 3 {
			usage()
		}
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n < 1 {
			usage()
		}
		freePorts(n)
	case "loopback-proxy":
		if len(os.Args) < 3 {
			usage()
		}
		loopbackProxy(os.Args[2:])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testbed-helper free-ports N | loopback-proxy 127.0.0.1:PORT|unix:PATH...")
	os.Exit(2)
}

// freePorts keeps every listener open until all are chosen, so the ports
// are distinct; they are released on exit for the caller to bind.
func freePorts(n int) {
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		ls = append(ls, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
}

func loopbackProxy(addrs []string) {
	var ls []net.Listener
	for _, addr := range addrs {
		network := "tcp"
		if path, ok := strings.CutPrefix(addr, "unix:"); ok {
			network, addr = "unix", path
			os.Remove(path) // a stale socket from a killed run
		} else if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
			log.Fatalf("listen address %q must be a loopback IP:port or unix:PATH", addr)
		}
		l, err := net.Listen(network, addr)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("loopback CONNECT proxy on %s %s", network, addr)
		ls = append(ls, l)
	}
	for _, l := range ls {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					log.Fatal(err)
				}
				go handle(c)
			}
		}()
	}
	select {}
}

func handle(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		// A plain proxy request: Go sends one through HTTP_PROXY for a
		// non-loopback http:// URL (loopback is never proxied), so refuse it.
		why := "testbed: the loopback proxy only tunnels (CONNECT) to loopback targets, refused " + req.Method + " " + req.URL.String()
		log.Printf("refused %s %s", req.Method, req.URL)
		fmt.Fprintf(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(why), why)
		return
	}
	// The CONNECT target is the request URI; the apiserver sends a Host
	// header of its own.
	target := req.URL.Host
	if ok, why := allowed(target); !ok {
		log.Printf("refused CONNECT %s: %s", target, why)
		fmt.Fprintf(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n%s", len(why), why)
		return
	}
	up, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		msg := err.Error()
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
		return
	}
	defer up.Close()
	fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	// When the target closes, close the client too (the deferred Closes);
	// a client that closes first ends the copy from br.
	go func() {
		// br may already hold bytes the client sent after the request.
		io.Copy(up, br)
		if tc, ok := up.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	io.Copy(c, up)
}

// allowed accepts only literal loopback IPs and "localhost": resolving any
// other name could lead off the machine.
func allowed(target string) (bool, string) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return false, "bad target " + target
	}
	if host == "localhost" {
		return true, ""
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return false, "testbed: only loopback targets are reachable (" + host + " is not)"
	}
	return true, ""
}
