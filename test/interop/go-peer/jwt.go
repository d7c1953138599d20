package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// runJWT fetches a JWT-SVID (FetchJWTSVID), validates it twice — through the agent
// (ValidateJWTSVID) and locally against the agent's JWT bundle (FetchJWTBundles +
// jwtsvid.ParseAndValidate) — and checks that the agent refuses it for another audience.
func runJWT(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("jwt", flag.ContinueOnError)
	audience := flags.String("audience", "", "the audience to ask for and validate against")
	wanted := flags.String("spiffe-id", "", "optional: the SPIFFE ID to ask for")
	if err := flags.Parse(args); err != nil {
		return err
	}
	params := jwtsvid.Params{Audience: *audience}
	if *wanted != "" {
		id, err := spiffeid.FromString(*wanted)
		if err != nil {
			return fmt.Errorf("-spiffe-id: %w", err)
		}
		params.Subject = id
	}
	svid, err := workloadapi.FetchJWTSVID(ctx, params)
	if err != nil {
		return fmt.Errorf("workloadapi.FetchJWTSVID: %w", err)
	}
	token := svid.Marshal()

	validated, err := workloadapi.ValidateJWTSVID(ctx, token, *audience)
	if err != nil {
		return fmt.Errorf("workloadapi.ValidateJWTSVID: %w", err)
	}
	bundles, err := workloadapi.FetchJWTBundles(ctx)
	if err != nil {
		return fmt.Errorf("workloadapi.FetchJWTBundles: %w", err)
	}
	local, err := jwtsvid.ParseAndValidate(token, bundles, []string{*audience})
	if err != nil {
		return fmt.Errorf("jwtsvid.ParseAndValidate against the agent's JWT bundle: %w", err)
	}
	_, wrongAudience := workloadapi.ValidateJWTSVID(ctx, token, *audience+"-other")
	wrongAudienceError := ""
	if wrongAudience != nil {
		wrongAudienceError = wrongAudience.Error()
	}
	trustDomains := []string{}
	for _, bundle := range bundles.Bundles() {
		trustDomains = append(trustDomains, bundle.TrustDomain().IDString())
	}
	emit(map[string]any{
		"event":              "jwt",
		"spiffeId":           svid.ID.String(),
		"audience":           svid.Audience,
		"hint":               svid.Hint,
		"expiry":             svid.Expiry.Unix(),
		"token":              token,
		"validatedId":        validated.ID.String(),
		"validatedClaims":    validated.Claims,
		"localValidatedId":   local.ID.String(),
		"bundleTrustDomains": trustDomains,
		"wrongAudienceError": wrongAudienceError,
	})
	return nil
}
