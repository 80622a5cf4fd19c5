package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// Predict tokens let a browser or app call one model's predict route
// without holding an API key. A token is
//
//	ypt_ + base64url(JSON claims) + "." + base64url(HMAC-SHA256(claims))
//
// keyed with a key derived from the server's URL secret, which lives in
// the data directory (serve) or is derived from the cluster secret
// (controlplane), so every voter accepts the tokens any voter issued.
const (
	predictTokenPrefix = "ypt_"
	// PredictTokenTTL is how long a predict token is valid. Fifteen
	// minutes lets a web page run many predicts with one token, and a
	// leaked token stops working soon after. Clients request a new token
	// when one expires.
	PredictTokenTTL = 15 * time.Minute
)

// predictTokenLabel separates the token key from the download-URL key
// that uses the same secret.
var predictTokenLabel = []byte("yoloplane predict token v1")

// predictClaims are the fields a predict token carries. The API key it was
// issued with must still be valid when the token is used, so revoking the
// key revokes its tokens.
type predictClaims struct {
	ModelID string `json:"mid"`
	KeyID   string `json:"kid"`
	Expires int64  `json:"exp"` // Unix seconds
}

func (s *Server) predictTokenKey() []byte {
	mac := hmac.New(sha256.New, s.backend.URLSecret)
	mac.Write(predictTokenLabel)
	return mac.Sum(nil)
}

func (s *Server) signPredictToken(c predictClaims) string {
	payload, err := json.Marshal(c)
	if err != nil {
		panic("BUG: marshal predict token claims: " + err.Error())
	}
	mac := hmac.New(sha256.New, s.predictTokenKey())
	mac.Write(payload)
	enc := base64.RawURLEncoding
	return predictTokenPrefix + enc.EncodeToString(payload) + "." + enc.EncodeToString(mac.Sum(nil))
}

// issuePredictToken serves POST /api/models/{modelId}/predict/token.
func (s *Server) issuePredictToken(ctx *fasthttp.RequestCtx, m state.Model) {
	if len(s.backend.URLSecret) == 0 {
		s.log.Error("BUG: predict token requested without a URL secret")
		apierr.Write(ctx, apierr.Internal)
		return
	}
	expires := s.now().Add(PredictTokenTTL)
	token := s.signPredictToken(predictClaims{ModelID: m.ID, KeyID: principal(ctx).Key.ID, Expires: expires.Unix()})
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"success": true, "token": token, "modelId": m.ID,
		"expiresAt": formatTime(expires), "expiresIn": int(PredictTokenTTL.Seconds()),
	})
}

// authenticateCaller authenticates a request by predict token when its
// bearer token has the predict token prefix, and by API key otherwise.
func (s *Server) authenticateCaller(ctx *fasthttp.RequestCtx) (*Principal, *apierr.Error) {
	header := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if token, ok := bytes.CutPrefix(header, []byte("Bearer "+predictTokenPrefix)); ok {
		return s.authenticatePredictToken(ctx, bytes.TrimSpace(token))
	}
	return s.authenticate(ctx)
}

// authenticatePredictToken checks a predict token: its signature, its
// expiry, and that the request is POST /api/models/{modelId}/predict of
// the token's model. The caller becomes the API key that issued it.
func (s *Server) authenticatePredictToken(ctx *fasthttp.RequestCtx, token []byte) (*Principal, *apierr.Error) {
	invalid := apierr.Unauthorized("invalid predict token: request a new one with POST /api/models/{modelId}/predict/token")
	if len(s.backend.URLSecret) == 0 {
		return nil, invalid
	}
	payloadB64, sigB64, ok := bytes.Cut(token, []byte("."))
	if !ok {
		return nil, invalid
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(string(payloadB64))
	sig, err2 := enc.DecodeString(string(sigB64))
	if err1 != nil || err2 != nil {
		return nil, invalid
	}
	mac := hmac.New(sha256.New, s.predictTokenKey())
	mac.Write(payload)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, invalid
	}
	var c predictClaims
	if json.Unmarshal(payload, &c) != nil {
		return nil, invalid
	}
	if s.now().Unix() >= c.Expires {
		return nil, apierr.Unauthorized("predict token expired: request a new one with POST /api/models/%s/predict/token", c.ModelID)
	}
	if !ctx.IsPost() || !strings.EqualFold(string(ctx.Path()), "/api/models/"+c.ModelID+"/predict") {
		return nil, apierr.Unauthorized("this predict token is valid only for POST /api/models/%s/predict: use an API key here", c.ModelID)
	}
	key, ok := s.fsm.KeyByID(c.KeyID)
	if !ok || key.Revoked {
		return nil, apierr.Unauthorized("the API key that issued this predict token was revoked: request a new token")
	}
	user, ok := s.fsm.UserByID(key.UserID)
	if !ok {
		return nil, apierr.Unauthorized("the user of this predict token no longer exists")
	}
	return &Principal{Key: key, User: user}, nil
}
