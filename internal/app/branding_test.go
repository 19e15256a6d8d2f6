package app

import (
	"testing"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/internal/config"
)

func TestUpstreamOfConfig(t *testing.T) {
	def, err := upstreamOf(config.Branding{})
	if err != nil || def.Menus != render.DefaultUpstream().Menus || def.Nav != render.DefaultUpstream().Nav {
		t.Fatalf("no console block: want the defaults, got %+v, %v", def, err)
	}
	c := &config.ConsoleAreas{Nav: ".top", Logo: ""}
	c.Menus.Info, c.Ops.Activities = "#info", "div.activities"
	up, err := upstreamOf(config.Branding{Console: c, CloudLogo: config.CloudLogo{URLEN: "/img/cloud.svg", AltEN: "Cloud"}})
	if err != nil {
		t.Fatal(err)
	}
	want := render.MenuSelectors{Info: "#info"}
	if up.Menus != want || up.Ops.Activities != "div.activities" || up.Ops.Announcements != "" || up.Nav != ".top" ||
		up.Logo != "" || up.CloudLogo.URLEN != "/img/cloud.svg" {
		t.Fatalf("configured areas not applied: %+v", up)
	}
}
