"""The pediatrician report's thresholds, each with its unit and its reason."""

from __future__ import annotations

# Days each side of a treatment start the trend compares (local calendar days, whole ones only): a
# week, as the daily summary's treatment lines (daemon/consts.py SUMMARY_TREATMENT_DAYS), which give
# this same trend (daemon/summary.py: the thresholds below hold for both); a response
# to ACTH, prednisolone or vigabatrin is usually judged within the first two weeks.
TREND_DAYS = 7
# The trend's rates are per this many monitored seconds: per 24 h monitored reads as "a day's worth"
# of spasms, the unit a doctor and a family count in; per hour gives fractions (0.3/h) nobody reads.
TREND_PER_S = 24 * 3600.0
# A side of the trend with fewer monitored seconds (band worn and heard from, export/coverage.py)
# than this is not compared: clusters come a few a day, mostly on waking, and under a day's worth
# of monitoring a side holds a handful of wakings, so one cluster more or less halves or doubles its
# rate; and a per-24-h rate would then be a guess beyond the time seen.
TREND_MIN_MONITORED_S = 24 * 3600.0
# A day's clusters per 24 h monitored (the per-day table) are given for a day with at least this many
# monitored seconds; under it the cell says '-'. Clusters come a few a day, mostly on waking: under
# half a day, scaling to 24 h counts each cluster more than twice, so one cluster more or less moves
# the rate by 2 or more a day, and a day of 2 h with none reads "0.0" as if it were a good day.
# Half a day, not TREND_MIN_MONITORED_S's full one: a single day never exceeds 24 h (25 on the
# night the clocks go back), so a full day's bar would leave almost every day without a rate.
DAY_RATE_MIN_MONITORED_S = 12 * 3600.0
# A day with more clusters than this (not marked false alarms) is flagged as more likely a band
# problem (loose, or rocked, bounced or driven: movement the band can take for spasms) than the
# child's: the report asks the family to check the band's fit and to film, and keeps the count.
# The project's docs state no published upper bound; the nearest is the third simulator's model,
# written from the clinical descriptions (docs/thirdsim.md: Kellaway et al. 1979, Plouin et al.
# 1987): a cluster after 25-70 % of wakings from >= 20 min of sleep, plus 0.2-1.5 a day at other
# wake times and 0-0.35 out of sleep; under 10 a day even for a baby who wakes 10 times. 30 is three
# times that: "far above", so a severe but real day is not called a band problem lightly.
CLUSTERS_IMPLAUSIBLE_PER_DAY = 30
# The two sides of a trend are said to have been monitored at different hours of the day when at least
# this fraction of a side's monitored hours would have to move to other hours of the day (local, 0-23)
# to match the other side's spread (half the summed differences of the two sides' shares per hour).
# Clusters come mostly after waking, so a rate per 24 h monitored compares like with like only over
# like hours: worn all day vs nights only is 0.5 (half); off 4 h a day on one side only is 0.17, a
# bath and a feed, not a different day. A quarter: between the two, a quarter of the day moved.
TREND_HOURS_DIFFER = 0.25
# Rates (per 24 h monitored) that differ by less than this fraction of the rate before are said to
# be "no change": a week of 4 clusters a day is 28, and 2-3 clusters more or less (<= 10 %) is what
# a quiet or a restless day makes, not a treatment. Bigger changes are given as a percentage only:
# whether that is a response is the doctor's call (with EEG), never the report's.
TREND_SAME_FRACTION = 0.10
# A caregiver's video note belongs to a cluster when written from this long before its start
# (filming began as the alarm came, the note typed at once) ...
NOTE_BEFORE_S = 10 * 60.0
# ... to this long after its end: a family files "video taken" once the baby is settled and fed,
# within the hour; later notes are about something else as often as not.
NOTE_AFTER_S = 60 * 60.0
# The summary names the times of at most this many caregiver's videos near no cluster the band found
# (the rest are counted, all are in the log table): a family films a few things a fortnight, and a
# line of more times than this is read as a list to skim, not to look up.
UNMATCHED_VIDEOS_LISTED = 5
# The per-day table's pages name at most this many treatment changes of one day (the rest counted,
# all are in the log table): each page names its own days' changes, and a day of many (a dose
# re-entered again and again) would leave no room for the table (hostile review).
CHANGES_LISTED = 3
# Days (rows) a page of the PDF's actogram, and a picture of the HTML's, holds; a longer report's go
# on over further pages, each titled with its dates: on one page, a 2-year report's 730 rows were a
# pixel each (hostile review). 56 rows on the page's 10 in are 13 pt each, room for a cluster's
# 11 pt tick and a 7 pt date; and 8 whole weeks, so every page begins on the same weekday, and holds
# the days of a page of the per-day table at most (pages.DAY_ROWS_PER_PAGE). The last two pages share
# their days in whole weeks (plots.actogram_rows): 57 days were a page of 56 and one of a day (review).
ACTOGRAM_DAYS_PER_PAGE = 56
# A drug's dose changes in one direction (a taper, a titration), one after another with none of its
# other changes between, are said as one line under the per-day table from this many on
# ('prednisolone tapered 40 -> 10 mg/day in 120 steps', with its first and last), each step in
# the log table: a daily taper's 120 changes, each with its date, flooded the HTML's note (hostile
# review); the course's shape is what a doctor reads there. Two steps are as short said apart.
DOSE_STEPS_AS_ONE = 3
# A dose kept inside such a run (from its first entry to the next change of dose: the same dose
# entered again is no change) at least this many times the median of the run's other doses' times,
# and at least DOSE_HOLD_MIN_S, is said as a hold ('tapered 40 -> 5 mg/day in 4 steps (held at 30
# mg/day for 14 days)'): a taper kept at 30 for two weeks between steps of 3 days read as one going
# down steadily (review), and why it was held is a doctor's question. Twice: a step entered a day late
# in a taper of 3-day steps (4 days) is not one, a week in it is.
DOSE_HOLD_FACTOR = 2.0
# ... and at least this long (s): a daily taper's dose entered again after a weekend (3 days) is a
# late entry, not a course kept at a dose; 5 days is most of the week a response is judged over.
DOSE_HOLD_MIN_S = 5 * 24 * 3600.0
# A run names at most this many of its holds, the rest counted: each is in the log table, and the
# daily plot's label of the run holds them all on its second line.
DOSE_HOLDS_LISTED = 2
# The daily plot dates each of its days (with its hours monitored) up to this many days; a longer
# report's plot dates a day a week (Mondays), or the 1st of a month when that is still too many, and
# shades its days of no data rather than marking each: its 7 pt dates, turned 60 degrees, need 10 pt
# of the plot's 476 pt each, and a 2-year report's 730 dates, 'no data' and 'under 12.0 h
# monitored' marks were one grey smear (hostile review).
DAILY_DATES_MAX = 45
# A treatment label of the daily plot that would cover another goes beside it, its text at most this
# far (pt) from its line for a change or a dose run, else left out (its line stays, the per-day
# table's note names it): two label widths (7 pt text), so it still reads as its line's. A start or
# a stop goes however far it takes: leaving one out hid a drug's start an hour after another's
# (neurologist's hostile review: a start must never be hidden).
TREATMENT_LABEL_SHIFT_MAX_PT = 20.0
# A treatment label moved off its line keeps at least this far (pt) from every other treatment line,
# unless its own line is nearer to it: placed beside the next line it passed, 1 px from it as a label
# from its own, a 2-year plot's taper label read as that line's (review). A label's width (7 pt text,
# turned): the room that line's own label would take, left empty, so that line reads as unlabelled.
TREATMENT_LABEL_CLEAR_PT = 7.0
# The daily plot's bars and spasm line are drawn under its treatment labels, which hang from its top as
# long as their text (7 pt, turned): its scales are raised for that, and a plot where a label over
# them leaves them under this share (fraction) of its height needs more height (plots.texts_over:
# page 1's goes on a page of its own, drawn lower down it; the HTML's picture is made higher). Its
# bars reach 1/1.35 (0.74) of the height under no label (the room above is the labels'); 0.4 keeps
# them over half of that, and a start's label ('vigabatrin start 50 mg/kg/day', 110 pt) fits the
# HTML's plot of 2.6 in; a taper's (195 pt) the PDF's page of its own (4.9 in).
DAILY_DATA_MIN_SHARE = 0.4
# The cluster size/duration plot's axes run from 0 to this share (fraction) past its longest
# cluster and its most spasm-like events: a point is drawn whole (its 2 pt radius is under 1 % of
# the plot's 2 in of height), and clusters of one duration (120-122 s) sat on matplotlib's limit,
# 5 % of their 2 s spread past them, half cut off (review).
SIZE_PLOT_PAD = 0.1
# Whole days with no data a report's range may hold before the store's first data, or after its
# last (today, at the latest) (days): up to it a range is drawn as given (a month's report of a band
# first worn mid-month shows when the monitoring began, one made on the 1st runs to the month's end);
# past it the range is a slip of the year ('--since 2016-01-01' on a store of weeks took 2 min 20 s
# and wrote 19.5 MB of empty days, '--until 9999-12-31' never ended), and the report starts on the
# first day of data or ends on the last, saying so. A month: the longest a calendar report asks.
EMPTY_DAYS_MAX = 31
