package token

// Internals that the external tests check directly.
var (
	DecodeClaims        = decodeClaims
	ParseClaims         = parseClaims
	AppendRawSignature  = appendRawSignature
	AppendASN1Signature = appendASN1Signature
)
