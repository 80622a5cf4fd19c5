package main

import "testing"

func TestCheckPublicURL(t *testing.T) {
	for _, u := range []string{"", "https://models.example.com", "http://10.0.0.5:8080", "https://models.example.com/"} {
		if err := checkPublicURL(u); err != nil {
			t.Errorf("checkPublicURL(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range []string{
		"models.example.com", "ftp://models.example.com", "https://models.example.com/app",
		"https://models.example.com?x=1", "https://models.example.com#top", " https://models.example.com",
		"https://user:pw@models.example.com", "https://models.example.com:99999", "https://:8080",
	} {
		if err := checkPublicURL(u); err == nil {
			t.Errorf("checkPublicURL(%q) = nil, want an error", u)
		}
	}
}
