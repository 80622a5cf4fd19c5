package predictapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

// URLFetcher downloads the image named by an http(s) URL in the source
// field. It is safe for concurrent use.
//
// Unless AllowPrivate is set, it connects only to public addresses. The
// check runs on the resolved IP of every connection, redirects included.
// So a hostname that resolves to a private address cannot make the server
// reach its own network.
type URLFetcher struct {
	client   *http.Client
	maxBytes int64
}

// errPrivateAddress marks a connection refused by the address check.
var errPrivateAddress = errors.New("address is not public")

// NewURLFetcher returns a fetcher that reads at most maxBytes per image and
// gives up after timeout.
func NewURLFetcher(maxBytes int64, timeout time.Duration, allowPrivate bool) *URLFetcher {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || !isPublic(ip) {
				return fmt.Errorf("%w: %s", errPrivateAddress, host)
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
	}
	return &URLFetcher{
		client: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("more than 3 redirects")
				}
				return nil
			},
		},
		maxBytes: maxBytes,
	}
}

// isPublic reports whether ip is a globally routable unicast address.
func isPublic(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	// 100.64.0.0/10 is carrier-grade NAT space, private in practice.
	if ip4 := ip.To4(); ip4 != nil && ip4[0] == 100 && ip4[1]&0xc0 == 64 {
		return false
	}
	return true
}

// Fetch downloads the image at rawURL. Every failure is a 400 that names
// what went wrong with the URL.
func (f *URLFetcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, apierr.Validation("field source is not a valid http(s) URL: %q", truncate(rawURL, 100))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, apierr.Validation("field source is not a valid http(s) URL: %v", err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return nil, apierr.Validation("field source URL %s resolves to a private or loopback address, which this server does not fetch: upload the image in the field file", u.Host)
		}
		return nil, apierr.Validation("failed to fetch the source URL %s: %v", u.Host, trimURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, apierr.Validation("failed to fetch the source URL %s: it returned HTTP %d", u.Host, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, apierr.Validation("failed to read the image from the source URL %s: %v", u.Host, err)
	}
	if int64(len(data)) > f.maxBytes {
		return nil, BodyTooLarge(f.maxBytes)
	}
	return data, nil
}

// trimURLError drops the method and URL that net/http puts in front of a
// transport error, so the message names only the cause.
func trimURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
