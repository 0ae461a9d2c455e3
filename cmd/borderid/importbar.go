package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// importBar draws a one-line progress bar on a terminal (stderr) for long
// imports (a master list holds hundreds of certificates). Off a terminal
// it draws nothing: logs and pipes get the per-file summary line only.
type importBar struct {
	w     io.Writer
	label string
	on    bool
	last  time.Time
	drawn bool
}

func newImportBar(w io.Writer, label string) *importBar {
	p := &importBar{w: w, label: label}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

const barWidth = 30

// update shows done of total, at most every 50 ms.
func (p *importBar) update(done, total int) {
	if !p.on || total < 20 || time.Since(p.last) < 50*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprint(p.w, "\r"+bar(p.label, done, total))
	p.drawn = true
}

// done clears the bar's line.
func (p *importBar) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func bar(label string, done, total int) string {
	if total <= 0 {
		return label
	}
	n := done * barWidth / total
	return fmt.Sprintf("%s [%s%s] %d/%d", label, strings.Repeat("#", n), strings.Repeat(" ", barWidth-n), done, total)
}
