// spasmwatch band pod: a soft-edged shell for the electronics, worn in a
// sewn fabric pocket on the front of a chest/abdomen band (hardware/README.md).
//
//   openscad -D 'variant="xiao"' -D 'part="body"' -o pod_xiao_body.stl pod.scad
//
// variant: xiao  (XIAO ESP32C3/S3 + IMU breakout side by side over a 500 mAh cell)
//          stick (M5StickC PLUS2)
//          atom  (M5Stack AtomS3, USB powered bench unit)
// part:    body | lid
// Print in PETG or TPU 95A; every outside edge is rounded (edge_r). The lid
// is glued in after assembly (no screws, nothing a hand can open or a mouth
// can swallow); the cell charges through the USB-C opening.
// dimensions.json is exported from this file by export_dimensions.py: do not
// edit it by hand.

variant = "xiao";
part = "body";

clearance = 0.5;   // around the content, each side
wall = 2.0;        // side walls
floor_t = 1.6;     // skin side
lid_t = 1.6;       // outer side
edge_r = 3.0;      // outside edge radius (>= 2 mm against the skin)
strap_w = 25;      // elastic strap width
strap_t = 3;       // elastic strap thickness
slot = [strap_w + 1, strap_t + 0.5];  // strap slot, through the ears
ear = slot[1] + 2 * wall;             // ear length along x (holds one slot)
$fn = 32;

// Content envelope [x, y, z] in mm (x along the strap, z away from the skin).
//  xiao:  XIAO 21 x 17.8 x 3.5 and breakout 25.4 x 17.8 x 2.6 side by side,
//         on 0.5 mm foam over an Adafruit 1578 cell 36 x 29 x 4.75.
//  stick: M5StickC PLUS2 48 x 24 x 13.5.   atom: AtomS3 24 x 24 x 13.
function content(v) =
    v == "xiao"  ? [21 + 25.4, 29, 4.75 + 0.5 + 3.5] :
    v == "stick" ? [48, 24, 13.5] :
    v == "atom"  ? [24, 24, 13] :
    undef;

c = content(variant);
assert(c != undef, str("unknown variant ", variant));
// The USB-C opening in the +x end wall, [bottom, top] above the cavity floor: in front of the
// board that carries the port. xiao: the XIAO's edge, over the cell and its foam (its USB-C
// faces +x), up to the lid; until 2026-12-06 it was 1-5.5 mm for every variant, which on the
// xiao faces the cell: a plug met the wall and a glued pod could not be charged.
// stick, atom: not yet checked against the boards' ports (hardware/BRINGUP.md).
function usb_z(v) = v == "xiao" ? [4.75 + 0.5, c.z + clearance] : [1, 5.5];
usb = usb_z(variant);
usb_w = 10;           // opening width (a USB-C plug's shell is 8.34 x 2.56 mm)
cavity = [c.x + 2 * clearance, c.y + 2 * clearance, c.z + clearance];
shell = [cavity.x + 2 * wall, max(cavity.y + 2 * wall, slot[0] + 2 * wall), cavity.z + floor_t + lid_t];
outer = [shell.x + 2 * ear, shell.y, shell.z];

echo(str("DIMS {\"variant\": \"", variant, "\", \"content_mm\": ", c, ", \"cavity_mm\": ", cavity,
         ", \"outer_mm\": ", outer, ", \"edge_radius_mm\": ", edge_r, ", \"strap_slot_mm\": ", slot,
         ", \"wall_mm\": ", wall, ", \"usb_opening_mm\": ", usb, "}"));

module rounded_box(size, r) {
    hull() for (x = [r, size.x - r], y = [r, size.y - r], z = [r, size.z - r])
        translate([x, y, z]) sphere(r);
}

module body() {
    difference() {
        rounded_box(outer, edge_r);
        // cavity, open towards the lid
        translate([ear + wall, (outer.y - cavity.y) / 2, floor_t]) cube([cavity.x, cavity.y, cavity.z + lid_t + 1]);
        // lid recess
        translate([ear + wall / 2, wall / 2, outer.z - lid_t]) cube([shell.x - wall, outer.y - wall, lid_t + 1]);
        // strap slots through the ears
        for (x = [wall, outer.x - wall - slot[1]])
            translate([x, (outer.y - slot[0]) / 2, -1]) cube([slot[1], slot[0], outer.z + 2]);
        // USB-C access on the +x end of the cavity (charging without opening)
        translate([ear + shell.x - wall - 1, (outer.y - usb_w) / 2, floor_t + usb[0]]) cube([wall + 2, usb_w, usb[1] - usb[0]]);
    }
}

module lid() {
    difference() {
        intersection() {
            rounded_box([shell.x - wall - 0.3, outer.y - wall - 0.3, lid_t + edge_r], edge_r - 1);
            cube([shell.x, outer.y, lid_t]);
        }
        // thin window over the LED / screen area
        translate([(shell.x - wall) / 2 - 4, (outer.y - wall) / 2 - 4, lid_t - 0.6]) cube([8, 8, 1]);
    }
}

// What of the body a USB-C plug's shell (8.34 x 2.56 mm), centred in the opening, would meet:
// export_dimensions.py requires it empty.
module plug() {
    intersection() {
        body();
        translate([ear + shell.x - wall - 0.5, outer.y / 2 - 8.34 / 2, floor_t + (usb[0] + usb[1]) / 2 - 2.56 / 2])
            cube([wall + 1, 8.34, 2.56]);
    }
}

if (part == "body") body();
else if (part == "lid") lid();
else if (part == "plug") plug();
else assert(false, str("unknown part ", part));
