package signing

// Internals the external tests build hostile files with.
var (
	PKCS12KDF = pkcs12KDF
	BMPString = bmpString
)
