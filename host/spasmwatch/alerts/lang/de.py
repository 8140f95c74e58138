"""Deutsch. "Brustgurt" for the band, "Serie" for a cluster (BNS-Anfälle kommen in Serien), "Sie".
Infantile spasms are "Spasmen" (the "infantile Spasmen" of German pediatrics, as English says
"spasms"), never "BNS-Anfälle" nor "West-Syndrom": a seizure or a syndrome is a diagnosis, which a push
never claims (tests/alerts/test_cluster_ended.py DIAGNOSIS); the band's finding is "krampfartige
Bewegungen". An alarm is "übernommen" (someone is on it), never "bestätigt": that is the page's
label of a cluster seen to be real."""

CATALOG: dict[str, str] = {
    "disclaimer": "spasmwatch ist ein Hilfsmittel zur Früherkennung, keine Diagnose.",
    "device": "{label} ({device})",
    "since": " seit {time}",
    "of": " von {time}",
    "waking.unknown": "Aufwachzeit unbekannt",
    "waking.after": "{min} min nach dem Aufwachen",
    "spasms.one": "{n} krampfartige Bewegung",
    "spasms.other": "{n} krampfartige Bewegungen",
    "span.s": "{n} s",
    "span.min": "{n} min",
    "warning.title": "Hinweis: {spasms}",
    "warning.text": "{spasms} kurz nacheinander{since}. Folgt eine dritte, löst spasmwatch den Serien-Alarm aus. "
    "Sehen Sie am besten nach dem Baby, das Handy zum Filmen bereit.",
    "alarm.title": "ALARM: mögliche Serie von Spasmen",
    "alarm.text": "{spasms} in einer Serie{since}, {waking}. Bitte filmen Sie das Baby jetzt, falls es noch andauert, "
    "und kontaktieren Sie Ihre Kinderärztin oder Ihren Kinderarzt. {disclaimer}",
    "update.title": "Serie hält an: {n} Bewegungen",
    "update.text": "Die Serie geht weiter: {spasms}{since}. Filmen Sie weiter, wenn möglich. {disclaimer}",
    "escalated.title": "ALARM NICHT ÜBERNOMMEN: mögliche Serie von Spasmen",
    "escalated.text": "Seit {span} hat niemand den Alarm übernommen. {spasms} in einer Serie{since}, {waking}. "
    "Bitte sehen Sie jetzt nach dem Baby, filmen Sie, falls es noch andauert, und kontaktieren Sie Ihre "
    "Kinderärztin oder Ihren Kinderarzt. {disclaimer}",
    "acknowledged.title": "Alarm übernommen von {by}",
    "acknowledged.text": "{by} kümmert sich um den Alarm von {device}.",
    "closed.title": "Serie beendet{alarm}",
    "closed.title.open": ", Alarm NICHT übernommen",
    "closed.title.acknowledged": ", Alarm übernommen{by}",
    "closed.title.unanswered": ", Alarm nie übernommen",
    "closed.by": " von {by}",
    "closed.over": " in {span}",
    "closed.start": ", Beginn {time}",
    "closed.alarm.open": "Niemand hat den Alarm bisher übernommen: Sehen Sie nach dem Baby und übernehmen Sie ihn dann "
    "auf der spasmwatch-Seite. ",
    "closed.alarm.acknowledged": "Der Alarm wurde{by} übernommen. ",
    "closed.alarm.unanswered": "Niemand hat den Alarm übernommen. ",
    "closed.text": "Serie beendet: {spasms}{over}{start}. {alarm}Notieren Sie, was Sie gesehen haben. Wenn es wieder "
    "auftritt, filmen Sie es und zeigen Sie alle Videos Ihrer Kinderärztin oder Ihrem Kinderarzt.",
    "merged.title": "Dieselbe Serie wie ein früherer Alarm",
    "merged.text": "Die Bewegungen dieses Alarms gehören zur Serie{since}, die schon gemeldet wurde: eine Serie, nicht "
    "zwei (bisher {spasms}). Sie wird unter jenem Alarm weiter verfolgt; für diesen ist nichts mehr zu tun.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "late.title": "Frühere Serie, um {time}",
    "late.text": "Erst jetzt bekannt (die Daten des Brustgurts kamen verspätet an): {spasms} in einer Serie{over}, "
    "Beginn um {time}, {waking}. Sie ist vorbei: jetzt ist nichts zu filmen. Notieren Sie, woran Sie sich von dieser Zeit "
    "erinnern, und sagen Sie es Ihrer Kinderärztin oder Ihrem Kinderarzt. {disclaimer}",
    "false_alarm.title": "Fehlalarm",
    "false_alarm.text": "{by} hat die Serie{of} als Fehlalarm markiert. Nichts zu tun.",
    "test_alarm.title": "Testalarm, nichts erkannt",
    "test_alarm.text": "Dies ist ein Test der Alarme von spasmwatch, gesendet von {by} um {time}. Es wurde kein Spasmus "
    "erkannt. Dieser Test ist angekommen, also erreichen Alarme dieses Handy oder diesen Lautsprecher. Ein echter Alarm braucht "
    "außerdem einen geladenen, angelegten und verbundenen Brustgurt und kommt nur, wenn spasmwatch eine Serie erkennt; "
    "manche übersieht es. Wenn Sie Spasmen sehen, filmen Sie sie und wenden Sie sich an Ihre Kinderärztin oder Ihren "
    "Kinderarzt.",
    "fault.disconnected.title": "Brustgurt getrennt",
    "fault.disconnected.text": "Keine Daten vom Brustgurt: Spasmen können nicht erkannt werden. Prüfen Sie, ob er "
    "geladen und in Reichweite dieses Computers ist.",
    "fault.disconnected.here.text": "Keine Daten vom Brustgurt: Spasmen können nicht erkannt werden. Das Problem "
    "liegt an diesem Computer, nicht am Brustgurt: Der Computer kann Bluetooth nicht nutzen (kein Bluetooth-Adapter, oder der "
    "Bluetooth-Dienst läuft nicht). 'spasmwatch status' auf diesem Computer sagt, was zu tun ist.",
    "fault.disconnected.fault.text": "Keine Daten vom Brustgurt: Spasmen können nicht erkannt werden. Der Brustgurt "
    "antwortet, kann aber erst genutzt werden, wenn jemand handelt (ihn neu koppeln, oder ein Update): Die Webseite "
    "oder 'spasmwatch status' auf diesem Computer sagt, was zu tun ist.",
    "fault.not_worn.title": "Brustgurt nicht angelegt",
    "fault.not_worn.text": "Brustgurt nicht angelegt: Prüfen Sie, ob er gut an der Brust des Babys anliegt, Sensor vorne.",
    "fault.battery_low.title": "Akku des Brustgurts schwach",
    "fault.battery_low.text": "Akku des Brustgurts schwach: Laden Sie ihn bald. Bei 3 % erkennt er nichts mehr, bis er "
    "geladen ist.",
    "fault.log_nearly_full.title": "Speicher des Brustgurts fast voll",
    "fault.log_nearly_full.text": "Der Ereignisspeicher des Brustgurts ist fast voll: Bringen Sie ihn in Reichweite "
    "dieses Computers, damit er seine Ereignisse übertragen kann.",
    "fault.clock_unsynced.title": "Uhr des Brustgurts nicht gestellt",
    "fault.clock_unsynced.text": "Die Uhr des Brustgurts ist nicht synchronisiert: Die Zeiten der Ereignisse können "
    "falsch sein, bis er sich mit diesem Computer verbindet.",
    "fault.safe_mode.title": "Brustgurt im abgesicherten Modus",
    "fault.safe_mode.text": "Der Brustgurt ist im abgesicherten Modus neu gestartet und erkennt nichts: Starten Sie "
    "ihn neu, und aktualisieren Sie seine Firmware, wenn das wieder vorkommt.",
    "fault.sensor_error.title": "Sensorfehler am Brustgurt",
    "fault.sensor_error.text": "Der Bewegungssensor des Brustgurts meldet einen Fehler, er erkennt nichts: Starten "
    "Sie den Brustgurt neu.",
    "fault.storage_failing.title": "Ereignisse werden nicht gespeichert",
    "fault.storage_failing.text": "Dieser Computer kann die Ereignisse des Brustgurts nicht speichern (ist die "
    "Festplatte voll oder das Laufwerk nicht angeschlossen?). Alarme funktionieren weiter, und der Brustgurt behält "
    "seine Ereignisse, bis sie gespeichert werden können: Schaffen Sie Speicherplatz oder schließen Sie das Laufwerk wieder an.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.storage_failing.rename.text": "Dieser Computer kann die Datei, in der er die Ereignisse des Brustgurts speichert, nicht "
    "aktualisieren: Jemand hat ihr von Hand eine Spalte hinzugefügt, die diese Version von spasmwatch selbst hinzufügt. Es "
    "wird nichts darin gespeichert. Alarme funktionieren weiter, und der Brustgurt behält seine Ereignisse. Zur Behebung "
    "auf diesem Computer: spasmwatch beenden, {command} ausführen (es benennt diese Spalte um und behält ihren Inhalt), "
    "dann spasmwatch wieder starten.",
    "fault.store_damaged.title": "Die Ereignisdatei ist beschädigt",
    "fault.store_damaged.text": "Die Datei, in der dieser Computer die Ereignisse des Brustgurts speichert, ist beschädigt: "
    "Es wird nichts darin gespeichert. Alarme funktionieren weiter, und der Brustgurt behält seine Ereignisse. Zur Reparatur "
    "auf diesem Computer: spasmwatch beenden, {command} ausführen (es sagt, wie spasmwatch zu beenden ist, "
    "falls es noch läuft), dann spasmwatch wieder starten.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.copy.text": "Die Datei, in der dieser Computer die Ereignisse des Brustgurts speichert, wurde von Hand "
    "geändert und hat einen Teil jedes Ereignisses verloren: Es wird nichts darin gespeichert, und keine Reparatur kann das "
    "zurückholen. Alarme funktionieren weiter, und der Brustgurt behält seine Ereignisse. Auf diesem Computer: spasmwatch "
    "beenden, dann eine Kopie der Datei von vor der Änderung zurücklegen. Ohne Kopie: die Datei beiseitelegen (aufbewahren) "
    "und {command} ausführen, das eine neue, leere Datei anlegt. Dann spasmwatch wieder starten ('spasmwatch status' nennt "
    "die Schritte).",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.backup.text": "Die Datei, in der dieser Computer die Ereignisse des Brustgurts speichert, wurde von "
    "Hand geändert und hat einen Teil jedes Ereignisses verloren: Es wird nichts darin gespeichert, und keine Reparatur kann "
    "das zurückholen. Alarme funktionieren weiter, und der Brustgurt behält seine Ereignisse. spasmwatch legt täglich eine "
    "Sicherung der Datei an: auf diesem Computer spasmwatch beenden, {command} ausführen (es legt die neueste Sicherung "
    "zurück und bewahrt die geänderte Datei daneben auf), dann spasmwatch wieder starten: Der Brustgurt sendet die "
    "Ereignisse, die er noch hat, erneut.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.unreadable.text": "Die Datei, in der dieser Computer die Ereignisse des Brustgurts speichert, ist "
    "gar nicht lesbar (keine Datenbankdatei): Es wird nichts darin gespeichert, und keine Reparatur kann sie lesen. Alarme "
    "funktionieren weiter, und der Brustgurt behält seine Ereignisse. Auf diesem Computer: spasmwatch beenden, {command} "
    "ausführen (legt die Datei beiseite, sie bleibt erhalten), dann spasmwatch wieder starten: Es legt eine neue, leere "
    "Datei an, und der Brustgurt sendet die Ereignisse, die er noch hat, erneut.",
    "fault.store_newer.title": "Die Ereignisdatei braucht ein neueres spasmwatch",
    "fault.store_newer.text": "Die Datei, in der dieser Computer die Ereignisse des Brustgurts speichert, wurde von einer neueren Version von "
    "spasmwatch geändert, die diese nicht schreiben darf: es wird nichts darin gespeichert. Alarme funktionieren weiter, "
    "und der Brustgurt behält seine Ereignisse. Wurde spasmwatch gerade aktualisiert, starten Sie es neu; wurde es auf "
    "eine ältere Version zurückgesetzt, aktualisieren Sie es wieder.",
    "fault.band_log_failing.title": "Brustgurt kann nicht speichern",
    "fault.band_log_failing.text": "Der Brustgurt konnte eine erkannte Bewegung nicht speichern, und solche Bewegungen "
    "kommen auch hier nicht an: Spasmen können übersehen werden. Starten Sie den Brustgurt neu; kommt das wieder, "
    "spielen Sie die Firmware neu auf (spasmwatch flash) oder ersetzen Sie ihn.",
    "fault.samples_lost.title": "Brustgurt verliert Bewegungsdaten",
    "fault.samples_lost.text": "Der Brustgurt hat seit einigen Minuten immer wieder einen Teil seiner "
    "Bewegungsdaten verloren (er kommt mit seinem Sensor nicht nach). Er erkennt weiter, aber ein Spasmus in "
    "diesen Momenten könnte übersehen werden. Hält das an, starten Sie den Brustgurt neu; kommt es danach "
    "wieder, spielen Sie die Firmware neu auf (spasmwatch flash) oder ersetzen Sie ihn.",
    "fault.other_bonds.title": "Ein anderes Gerät ist mit dem Brustgurt gekoppelt",
    "fault.other_bonds.text": "Ein anderes Gerät ist mit dem Brustgurt {band} gekoppelt ({n}). Gehört es nicht zu Ihren "
    "eigenen Geräten (ein zweiter Computer oder ein Handy, das Sie gekoppelt haben), führen Sie "
    "`spasmwatch bonds --revoke-others` aus.",
    "fault.radio_late.title": "Funk des Brustgurts verspätet gestartet",
    "fault.radio_late.text": "Der Funk des Brustgurts {band} ist beim Einschalten nicht gestartet und erst etwa {n} Min. "
    "später angelaufen: Deshalb wurde er als getrennt angezeigt. Der Brustgurt hat währenddessen weiter überwacht und "
    "gespeichert, was er erkannt hat, und sendet es jetzt hierher; eine Serie darin wird als verspätet gemeldet, da "
    "kein Alarm Sie erreichen konnte, solange der Funk aus war. Einmal ist kein Grund zu handeln.",
    "fault.radio_late.again.text": "Der Funk des Brustgurts {band} ist beim Einschalten wieder nicht gestartet und erst "
    "etwa {n} Min. später angelaufen: Deshalb wurde er als getrennt angezeigt. Der Brustgurt hat währenddessen weiter "
    "überwacht und gespeichert, was er erkannt hat, und sendet es jetzt hierher; eine Serie darin wird als verspätet "
    "gemeldet, da kein Alarm Sie erreichen konnte, solange der Funk aus war. Da es schon einmal passiert ist, schalten "
    "Sie den Brustgurt aus und ein; passiert es öfter, siehe docs/firmware.md (den Funk zuerst starten).",
    "cleared.disconnected.title": "Brustgurt wieder verbunden",
    "cleared.disconnected.text": "Brustgurt wieder verbunden: Die Überwachung läuft wieder.",
    "cleared.not_worn.title": "Brustgurt wieder angelegt",
    "cleared.not_worn.text": "Brustgurt wieder angelegt: Die Überwachung läuft wieder.",
    "cleared.battery_low.title": "Akku des Brustgurts in Ordnung",
    "cleared.battery_low.text": "Der Akku des Brustgurts ist wieder in Ordnung.",
    "cleared.log_nearly_full.title": "Speicher des Brustgurts in Ordnung",
    "cleared.log_nearly_full.text": "Der Brustgurt hat seine Ereignisse übertragen; sein Speicher hat wieder Platz.",
    "cleared.clock_unsynced.title": "Uhr des Brustgurts gestellt",
    "cleared.clock_unsynced.text": "Die Uhr des Brustgurts ist wieder synchronisiert.",
    "cleared.safe_mode.title": "Brustgurt erkennt wieder",
    "cleared.safe_mode.text": "Der Brustgurt hat den abgesicherten Modus verlassen und erkennt wieder.",
    "cleared.sensor_error.title": "Sensor des Brustgurts in Ordnung",
    "cleared.sensor_error.text": "Der Bewegungssensor des Brustgurts funktioniert wieder.",
    "cleared.storage_failing.title": "Ereignisse werden wieder gespeichert",
    "cleared.storage_failing.text": "Dieser Computer speichert die Ereignisse des Brustgurts wieder.",
    "cleared.store_damaged.title": "Ereignisse werden wieder gespeichert",
    "cleared.store_damaged.text": "Dieser Computer kann seine Ereignisdatei wieder öffnen und speichert die Ereignisse des Brustgurts.",
    "cleared.store_newer.title": "Ereignisse werden wieder gespeichert",
    "cleared.store_newer.text": "Dieser Computer kann seine Ereignisdatei wieder öffnen und speichert die Ereignisse des Brustgurts.",
    "cleared.band_log_failing.title": "Brustgurt speichert wieder",
    "cleared.band_log_failing.text": "Der Brustgurt speichert seine Ereignisse wieder (er wurde neu gestartet).",
    "cleared.samples_lost.title": "Brustgurt verliert keine Daten mehr",
    "cleared.samples_lost.text": "Der Brustgurt verliert keine Bewegungsdaten mehr.",
    "cleared.other_bonds.title": "Kein anderes Gerät gekoppelt",
    "cleared.other_bonds.text": "Nur dieser Computer ist jetzt mit dem Brustgurt gekoppelt.",
    "cleared.radio_late.title": "Funk des Brustgurts läuft",
    "cleared.radio_late.text": "Der Funk des Brustgurts läuft: Der Brustgurt ist verbunden.",
    "summary.title": "Tagesübersicht: {clusters} in 24 h",
    "summary.title_none": "Tagesübersicht: keine Serie in 24 h, {worn}",
    "summary.clusters.one": "{n} Serie",
    "summary.clusters.other": "{n} Serien",
    "summary.more": " und {n} weitere",
    "summary.outside.one": " und {n} weitere außerhalb davon",
    "summary.outside.other": " und {n} weitere außerhalb davon",
    "summary.counts": "{clusters} ({times}{more}): {spasms} darin{outside}",
    "summary.counts_none": "keine Serie, {spasms}",
    "summary.last_day": "Letzte 24 h: {counts}; {worn}.",
    "summary.title_unmonitored": "Tagesübersicht: in den letzten 24 h nicht überwacht",
    "summary.last_day_unmonitored": "Letzte 24 h: nicht überwacht ({worn}): nichts gezählt.",
    "summary.worn_none": "keine Daten vom Brustgurt",
    "summary.worn_h": "Brustgurt {n} h getragen",
    "summary.worn_min": "Brustgurt {n} min getragen",
    "summary.quiet.one": "Seit {n} Tag keine Serie ({h} h Überwachung).",
    "summary.quiet.other": "Seit {n} Tagen keine Serie ({h} h Überwachung).",
    "summary.yesterday": "gestern",
    "summary.days_ago": "vor {n} Tagen",
    "summary.treatment": "Seit Beginn der Behandlung mit {drug} ({ago}): {after} Serien pro 24 h Überwachung (vorher {before}).",
    "summary.treatment_same": "Seit Beginn der Behandlung mit {drug} ({ago}): {after} Serien pro 24 h Überwachung "
    "(vorher {before}: etwa gleich).",
    "summary.treatment_few": "Seit Beginn der Behandlung mit {drug} ({ago}): noch zu wenige Stunden überwacht für einen "
    "Vergleich ({after} h seitdem, {before} h davor; je {need} h nötig).",
    "summary.stopped": "{drug} wurde {ago} abgesetzt: die Rate gilt für die Tage bis dahin.",
    "summary.hours_differ": "Der Brustgurt wurde vor und nach dem Beginn zu anderen Tageszeiten getragen; Serien kommen "
    "meist nach dem Aufwachen, daher können die Raten schon deshalb abweichen.",
    "summary.treatment_doctor": "Es zählen nur Stunden, in denen der Brustgurt getragen und verbunden war; ob die "
    "Behandlung wirkt, beurteilt Ihre Kinderärztin oder Ihr Kinderarzt.",
    "decimal_mark": ",",
    "summary.video": "Heben Sie Videos auf und sagen Sie es Ihrer Kinderärztin oder Ihrem Kinderarzt.",
    "summary.zones": "Zeitzone der letzten 24 h: {zones}; alle Uhrzeiten hier in {here}.",
    "summary.zone_unnamed": "eine unbenannte Zeitzone",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "summary.zone_not_known": "vor {time} unbekannt: die damalige Version von spasmwatch hat keinen Namen dafür gespeichert",
    # ---- die Familienseite (daemon/web/app.js)
    "page.connecting": "Verbinde…",
    "page.current_alert": "Aktueller Alarm",
    "page.band": "Brustgurt",
    "page.bands": "Brustgurte",
    "page.loading": "Wird geladen…",
    "page.last24h": "Letzte 24 Stunden",
    "page.clusters_today": "Serien heute",
    "page.no_clusters": "Heute keine Serien.",
    "page.clusters_help": "Bitte markieren Sie jede Serie: {confirmed}, wenn Sie Spasmen gesehen haben, "
    "{false_alarm}, wenn nicht. So werden die Aufzeichnungen für die Ärztin oder den Arzt besser.",
    "page.last14": "Letzte 14 Tage",
    "page.legend_clusters": "Serien",
    "page.legend_false": "Fehlalarme",
    "page.notes": "Notizen",
    "page.what_happened": "Was ist passiert?",
    "page.kind.video": "Video aufgenommen",
    "page.kind.medication": "Medikament gegeben",
    "page.kind.note": "Notiz",
    "page.details": "Einzelheiten",
    "page.optional": "(optional)",
    "page.required": "(erforderlich)",
    "page.note_placeholder": "z. B. 2 Minuten mit dem Handy gefilmt",
    "page.save_note": "Notiz speichern",
    "page.today_notes": "Heute",
    "page.no_notes": "Heute keine Notizen.",
    "page.disclaimer": "spasmwatch ist ein Hilfsmittel zur Früherkennung, keine Diagnose. Wenn Sie sich Sorgen um "
    "Ihr Baby machen, filmen Sie die Bewegungen und kontaktieren Sie Ihre Kinderärztin oder Ihren Kinderarzt.",
    "page.who": "Ihr Name auf diesem Handy",
    "page.who_hint": "(wird mit übernommenen Alarmen, Markierungen und Notizen gespeichert)",
    "page.who_placeholder": "z. B. Mama",
    "page.screen.keep": "Bildschirm anlassen",
    "page.screen.stop": "Bildschirm sperren lassen",
    "page.screen.off": "Der Bildschirm des Handys sperrt sich wie gewohnt; ein gesperrtes Handy zeigt die Alarme dieser "
    "Seite nicht mehr an (die Push-Nachrichten kommen weiterhin).",
    "page.screen.on": "Der Bildschirm bleibt an, solange diese Seite offen und vorne ist.",
    "page.screen.paused": "Der Bildschirm darf sich sperren, solange diese Seite verdeckt ist; er bleibt wieder an, "
    "sobald Sie zu ihr zurückkehren.",
    "page.screen.refused": "Das Handy lässt den Bildschirm nicht an (seine Einstellungen für diese Seite verbieten es "
    "vielleicht): Stellen Sie stattdessen in den Einstellungen des Handys eine längere Bildschirmzeit ein.",
    "page.screen.needs_https": "Damit der Bildschirm an bleibt, muss diese Seite über https:// geöffnet sein: Führen Sie "
    "auf dem Computer, auf dem spasmwatch läuft, 'spasmwatch config tls new' aus, starten Sie spasmwatch neu und öffnen "
    "Sie die https://-Adresse, die 'spasmwatch status' angibt.",
    "page.screen.unsupported": "Dieser Browser kann den Bildschirm nicht anlassen: Stellen Sie in den Einstellungen des "
    "Handys eine längere Bildschirmzeit ein.",
    "page.test_alarm": "Testalarm senden",
    "page.test_alarm_help": "Prüft, ob ein Alarm jedes eingerichtete Handy und jeden Lautsprecher erreicht; "
    "er sagt, dass er nur ein Test ist.",
    "page.fault.disconnected": "Getrennt",
    "page.fault.not_worn": "Nicht angelegt",
    "page.fault.battery_low": "Akku schwach",
    "page.fault.log_nearly_full": "Speicher des Brustgurts fast voll",
    "page.fault.clock_unsynced": "Uhr nicht gestellt",
    "page.fault.safe_mode": "Brustgurt im abgesicherten Modus",
    "page.fault.sensor_error": "Sensorfehler",
    "page.fault.storage_failing": "Ereignisse werden nicht gespeichert (Festplatte voll oder getrennt?)",
    "page.fault.store_damaged": "Ereignisdatei beschädigt: spasmwatch beenden, {command} ausführen",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.store_damaged.copy": "Ereignisdatei hat Daten verloren, die keine Reparatur zurückholt: spasmwatch beenden, eine "
    "frühere Kopie zurücklegen oder die Datei beiseitelegen und {command} ausführen",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.storage_failing.rename": "Ereignisdatei hat eine von Hand hinzugefügte Spalte, die diese Version hinzufügt: "
    "spasmwatch beenden, {command} ausführen",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.store_damaged.backup": "Ereignisdatei hat Daten verloren, die keine Reparatur zurückholt: spasmwatch beenden, "
    "die neueste tägliche Sicherung zurücklegen mit {command}",
    "page.fault.store_damaged.unreadable": "Ereignisdatei gar nicht lesbar, keine Reparatur liest sie: spasmwatch beenden, "
    "mit {command} beiseitelegen, spasmwatch starten (es legt eine neue an)",
    "page.fault.store_newer": "Ereignisdatei von einem neueren spasmwatch: spasmwatch neu starten oder aktualisieren",
    "page.fault.band_log_failing": "Brustgurt kann Ereignisse nicht speichern",
    "page.fault.samples_lost": "Brustgurt verliert Bewegungsdaten",
    "page.fault.other_bonds": "Anderes Gerät gekoppelt: spasmwatch bonds --revoke-others, wenn es nicht Ihres ist",
    "page.fault.radio_late": "Funk beim Einschalten verspätet: Ereignisse gespeichert, hierher gesendet",
    "page.state.connected": "Verbunden",
    "page.state.silent": "Verbunden, sendet nichts",
    "page.state.out_of_reach": "Außer Reichweite, neuer Versuch läuft",
    "page.state.disconnected": "Getrennt",
    "page.state.needs_attention": "Braucht Aufmerksamkeit",
    "page.unknown": "Unbekannt",
    "page.under_minute": "weniger als einer Minute",
    "page.min": "{m} min",
    "page.h": "{h} h",
    "page.h_min": "{h} h {m} min",
    "page.just_now": "gerade eben",
    "page.ago": "vor {span}",
    "page.band_fallback": "Brustgurt",
    "page.access_expired": "Zugang abgelaufen: Öffnen Sie den Link mit dem Token noch einmal.",
    "page.cannot_reach": "spasmwatch ist nicht erreichbar: Was Sie sehen, ist vielleicht nicht aktuell.",
    # new 2026-12-08, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.store_unreadable": "spasmwatch kann seine Ereignisdatei gerade nicht lesen: Was Sie sehen, ist vielleicht nicht aktuell.",
    "page.last_update": "Zuletzt aktualisiert um {time}.",
    "page.offline": "Offline",
    "page.live": "Live",
    "page.reconnecting": "Verbinde neu…",
    "page.refreshing": "Aktualisiert alle 10 s",
    "page.updated": "Aktualisiert {time}",
    "page.ack": "Übernehmen",
    "page.ack_label": "Übernehmen: {title}",
    "page.alert_fallback": "Alarm",
    "page.acking": "Wird übernommen…",
    "page.since": "seit {time}",
    "page.after_waking": "{min} min nach dem Aufwachen",
    "page.waking_unknown": "Aufwachzeit unbekannt",
    "page.cluster_title": "Mögliche Serie von Spasmen",
    "page.acked": "Übernommen.",
    "page.acked_by": "Übernommen von {by}.",
    "page.marked_false": "Als Fehlalarm markiert.",
    "page.seen_by": "Gesehen von {by}.",
    "page.no_alert": "Zurzeit kein Alarm.",
    "page.band_alerts.one": "{n} Brustgurt-Meldung",
    "page.band_alerts.other": "{n} Brustgurt-Meldungen",
    "page.show_band_alerts": "Anzeigen",
    "page.hide_band_alerts": "Ausblenden",
    "page.not_saved": "Nicht gespeichert: {error}",
    "page.alert_over": "Dieser Alarm war bereits beendet: Es ist nichts mehr zu tun.",
    "page.alert_over_acked": "Dieser Alarm war bereits beendet; {by} hatte ihn übernommen.",
    "page.ack_not_open": "Dieser Alarm ist nicht mehr offen: Nichts wurde gespeichert (die Ereignisdatei kann gerade nicht gelesen werden). "
    "Wenn er wieder erscheint, übernehmen Sie ihn dann.",
    "page.no_band": "Noch kein Brustgurt eingerichtet.",
    "page.yes": "Ja",
    "page.not_on_baby": "Nein — nicht am Baby",
    "page.asleep": "Schläft",
    "page.awake": "Wach",
    "page.asleep_since": "Schläft seit {time}",
    "page.awake_since": "Wach seit {time}",
    "page.for": "seit {span}",
    "page.last_known": "zuletzt gemeldet um {time} ({seen})",
    "page.never": "nie",
    "page.battery": "Akku",
    "page.worn": "Angelegt",
    "page.sleep": "Schlaf",
    "page.last_heard": "Zuletzt vom Brustgurt gehört: {seen}",
    "page.band_problems": "Probleme des Brustgurts",
    "page.not_connecting": "Keine Verbindung: {error}.",
    "page.raw_paused": "Rohaufzeichnung pausiert seit {time}: {why}. Ereignisse und Alarme laufen weiter.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.link_unstable": "Verbindung instabil: {n}-mal abgebrochen in {min} min. Ereignisse kommen bei jeder neuen Verbindung "
    "an, Alarme um die Sekunden ohne Verbindung später: Stecken Sie das Kabel neu ein oder bringen Sie den Brustgurt näher.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.rate_not_taken": "Misst mit {hz} Hz, nicht mit den eingestellten {configured} Hz: IMU oder Firmware des Brustgurts "
    "unterstützen diese Rate nicht. Die Überwachung läuft weiter; prüfen Sie rate_hz in der Konfiguration oder aktualisieren Sie "
    "die Firmware des Brustgurts.",
    "page.firmware_old": "Die Firmware des Brustgurts ist nicht die von spasmwatch auf diesem Computer: spielen Sie die "
    "Firmware dieses Computers auf den Brustgurt ('spasmwatch flash'). Die Überwachung läuft weiter.",
    "page.firmware_newer": "Die Firmware des Brustgurts ist neuer als spasmwatch auf diesem Computer: aktualisieren "
    "Sie spasmwatch auf diesem Computer ('git pull', dann 'make install'), statt den Brustgurt neu zu bespielen. Die "
    "Überwachung läuft weiter.",
    "page.muted": "Hinweise des Brustgurts zurückgehalten bis {time}{by} (Serien-Alarme ertönen weiter).",
    "page.muted_tomorrow": "Hinweise des Brustgurts zurückgehalten bis morgen {time}{by} (Serien-Alarme ertönen weiter).",
    "page.muted_by": " von {by}",
    "page.end_mute": "Stummschaltung jetzt beenden",
    "page.end_mute_label": "Stummschaltung von {band} jetzt beenden",
    "page.channels_failing": "Benachrichtigungen über {channels} kommen nicht an.",
    "page.channel_failing": "{channel} (seit {time}: {error})",
    "page.channels_check_net": "Prüfen Sie die Internetverbindung dieses Computers und die Einstellungen des Kanals, "
    "dann senden Sie einen Testalarm (unten).",
    "page.channels_check": "Prüfen Sie die Einstellungen des Kanals, dann senden Sie einen Testalarm (unten).",
    "page.channels_changed": "Seit dem Fehlschlag geändert; ob zugestellt wird, zeigt erst der nächste Versand: {channels}. "
    "Senden Sie einen Testalarm (unten).",
    "page.channel_changed": "{channel} (fehlgeschlagen um {time}: {error})",
    "page.channels_others": "Die anderen Kanäle ({channels}) sind nicht gestört.",
    "page.channels_none": "Kein Kanal stellt zu: Ein Alarm erreicht jetzt niemanden. Bis einer funktioniert, kann "
    "spasmwatch Ihnen keine Serie melden.",
    "page.heartbeat_failing": "gestört seit {time}: {error}",
    "page.heartbeat": "Das Lebenszeichen an {host} ist {why}.",
    "page.heartbeat_held": "Das Lebenszeichen an {host} ist zurückgehalten: {why}.",
    "page.heartbeat_off": "Wenn dieser Computer jetzt ausgeht, erfährt es niemand; sein Dienst meldet bald, dass "
    "die Überwachung ausgefallen ist.",
    "page.store_error": "Die Ereignisdatei kann nicht geöffnet werden (seit {time}): {error}. Alarme funktionieren weiter, "
    "und die Brustgurte behalten ihre Ereignisse, bis sie sich öffnen lässt; spasmwatch versucht es jede Minute erneut.",
    "page.config_error": "Die Änderung der Konfiguration wurde nicht übernommen (seit {time}): {error}. Die "
    "Überwachung läuft mit der bisherigen Konfiguration weiter; korrigieren Sie die Datei und führen Sie dann "
    "{command} aus (es sagt, ob die Änderung übernommen wurde; für den installierten Dienst tut "
    "systemctl --user reload spasmwatch dasselbe ohne Meldung).",
    "page.ongoing": "hält an",
    "page.label_cluster": "Serie von {time} markieren",
    "page.confirmed": "Bestätigt",
    "page.false_alarm": "Fehlalarm",
    "page.chart": "Serien pro Tag in den letzten {days} Tagen: {total} insgesamt, {false} als Fehlalarm markiert.",
    "page.chart_today": "Serien pro Tag in den letzten {days} Tagen: {total} insgesamt, {false} als Fehlalarm "
    "markiert; heute {today}.",
    "page.today": "heute",
    "page.clusters.one": "{n} Serie",
    "page.clusters.other": "{n} Serien",
    "page.false_alarms.one": "{n} Fehlalarm",
    "page.false_alarms.other": "{n} Fehlalarme",
    "page.no_data": "keine Daten: der Brustgurt wurde nicht getragen oder war nicht verbunden",
    "page.no_band_heard": "Noch von keinem Brustgurt etwas gehört.",
    "page.write_first": "Bitte schreiben Sie zuerst die Notiz.",
    "page.saving": "Wird gespeichert…",
    "page.saved_at": "Gespeichert um {time}.",
    "page.test_sending": "Testalarm wird über jeden Kanal gesendet…",
    "page.test_sent": "Gesendet über {channels}: Prüfen Sie, ob er angekommen ist.",
    "page.test_heard": "{channel}: auf diesem Computer abgespielt: Haben Sie ihn gehört? (Der Player lief; das zeigt nicht, dass ein "
    "Lautsprecher angeschlossen und laut gestellt ist.)",
    "page.test_failed": "NICHT zugestellt über {channel}: {error}.",
    "page.test_not_sent": "Test nicht gesendet: {error}",
    "page.noscript": "Diese Seite braucht JavaScript, um den Zustand des Brustgurts zu zeigen.",
    "page.tech": "Technische Angaben",
    "page.why.here": "dieser Computer kann kein Bluetooth nutzen (kein Bluetooth-Adapter, oder der Bluetooth-Dienst "
    "läuft nicht); 'spasmwatch status' auf diesem Computer sagt, was zu tun ist",
    "page.why.not_found": "der Brustgurt wird nicht gefunden: außer Reichweite, ausgeschaltet oder mit einem anderen "
    "Computer verbunden",
    "page.why.timeout": "der Brustgurt antwortet nicht rechtzeitig",
    "page.why.refused": "der Brustgurt lehnt die Verbindung ab (mit einem anderen Computer beschäftigt?)",
    "page.why.disconnected": "die Verbindung ist abgebrochen",
    "page.why.auth": "der Brustgurt lehnt die Kopplung ab",
    "page.why.io": "die Verbindung meldet einen Fehler",
    "page.fault_detail.not_bonded": "Nicht gekoppelt: Der Brustgurt nimmt neue Kopplungen nur in den ersten {min} "
    "Minuten nach dem Einschalten an: Schalten Sie ihn aus und wieder ein und warten Sie, bis spasmwatch sich verbindet.",
    "page.fault_detail.pairing_refused": "Der Brustgurt lehnt die Kopplung ab: Wurde er gelöscht oder seine "
    "Firmware neu aufgespielt, entfernen Sie ihn in den Bluetooth-Einstellungen dieses Computers und schalten Sie "
    "ihn dann aus und wieder ein.",
    "page.fault_detail.band_refused": "Der Brustgurt hat einen Befehl abgelehnt: Starten Sie ihn neu; kommt das "
    "wieder, aktualisieren Sie seine Firmware.",
    "page.fault_detail.update_host": "Die Firmware des Brustgurts ist neuer als spasmwatch auf diesem Computer "
    "(Protokollversion {band}, hier {host}): Aktualisieren Sie spasmwatch auf diesem Computer.",
    "page.fault_detail.update_band": "Die Firmware des Brustgurts ist älter als spasmwatch auf diesem Computer "
    "(Protokollversion {band}, hier {host}): Spielen Sie seine Firmware mit dem spasmwatch dieses Computers neu auf "
    "('spasmwatch flash').",
    "page.raw.low_disk": "{free} frei auf {mount}, {keep} bleiben für Ereignisse reserviert",
    "page.raw.cannot_write": "{path} kann nicht geschrieben werden: {error}",
    "page.held.store_refuses": "die Ereignisdatei nimmt nichts mehr an ({bands}): Ereignisse gingen verloren",
    "page.notices": "Zu beheben (die Überwachung läuft währenddessen weiter)",
    "page.exposure.short_token": "Webseite: das LAN-Token ist kurz ({n} Zeichen); {min} oder mehr sind sicherer: "
    "'spasmwatch config set daemon.http.token new' erzeugt eines (es wird beim Start der Überwachung gelesen: starten Sie "
    "sie neu und öffnen Sie dann auf jedem Handy den Link, den 'spasmwatch status' zeigt)",
    "page.exposure.plain_page": "Webseite: unverschlüsselt (HTTP) im Heimnetz: wer das WLAN mitliest, liest den "
    "Anmeldelink und das Cookie (und kann damit Alarme übernehmen) und den Zustand des Babys. 'spasmwatch config tls new' "
    "erzeugt ein Zertifikat für HTTPS (starten Sie dann die Überwachung neu und nehmen Sie das Zertifikat auf jedem Handy "
    "einmal an)",
    "page.exposure.short_topic": "[channels.ntfy #{i}] ({channel}): sein Topic hat {n} Zeichen, weniger als {min}: wer "
    "es errät, liest jede Benachrichtigung mit (den Namen des Brustgurts, die Serien) und kann Fehlalarme senden. 'spasmwatch "
    "config add-ntfy new' erzeugt eines, das niemand errät (abonnieren Sie es dann auf den Handys)",
    "page.exposure.plain_ntfy": "[channels.ntfy #{i}] ({channel}): unverschlüsseltes {origin}, nicht auf diesem "
    "Computer oder im Heimnetz: jede Benachrichtigung (der Name des Brustgurts, die Serien) geht unverschlüsselt durchs "
    "Internet, lesbar für jeden auf dem Weg. Tragen Sie in der Konfiguration seine https://-Adresse ein",
    "page.exposure.plain_ntfy_token": "[channels.ntfy #{i}] ({channel}): unverschlüsseltes {origin}, nicht auf diesem "
    "Computer oder im Heimnetz: jede Benachrichtigung (der Name des Brustgurts, die Serien) und sein Zugangstoken gehen "
    "unverschlüsselt durchs Internet, lesbar für jeden auf dem Weg. Tragen Sie in der Konfiguration seine "
    "https://-Adresse ein",
    "page.exposure.plain_webhook": "[channels.webhook #{i}] ({channel}): unverschlüsseltes {origin}, nicht auf diesem "
    "Computer oder im Heimnetz: jede Meldung an ihn (der Name des Brustgurts, die Serien) geht unverschlüsselt durchs "
    "Internet, lesbar für jeden auf dem Weg. Tragen Sie in der Konfiguration seine https://-Adresse ein",
    "page.exposure.mqtt_no_tls": "[channels.mqtt]: sein Passwort geht unverschlüsselt an {broker} (tls = false), und mit "
    "ihm jeder Status: wer das Heimnetz mitliest, liest beides. Setzen Sie tls = true (den TLS-Port des Brokers, "
    "meist 8883; docs/alerts.md \"mqtt\")",
    "page.exposure.mqtt_no_login": "[channels.mqtt]: kein Benutzername, also nimmt der Broker unter {broker} Clients "
    "ohne Anmeldung an: wer ihn im Netz erreicht, kann einen Alarm übernehmen (commands = true) und jeden Status lesen. "
    "Richten Sie am Broker eine Anmeldung ein (username und password hier) oder setzen Sie commands = false",
    "page.exposure.past_bound": "{file}, Zeile {line}: [{table}] {setting} = {value} liegt über der Grenze ({bound}), "
    "verwendet wird {taken}: {why}. Tragen Sie {taken} (oder einen Wert innerhalb der Grenze) in die Datei ein, dann "
    "verschwindet dieser Hinweis",
    "page.bound_why.escalate_after_s": "ein Alarm, den niemand bestätigt, geht bis dahin an jedes Handy; später ist sein "
    "Ton verstummt und niemand sonst erfährt davon",
    "page.bound_why.rate_limit_s": "ein Fehler des Brustgurts wird mindestens so oft erneut gemeldet; über eine Stunde hinaus wird ein "
    "Brustgurt, der später in der Nacht wieder abreißt, stundenlang nicht gemeldet",
    "page.bound_why.quiet_hours": "Ruhezeiten länger als eine Nacht und der Abend davor halten Fehler des Brustgurts zurück, während "
    "die Familie wach ist",
    "page.bound_why.repeat_every_s": "ein Alarm, den niemand bestätigt, ertönt in seinen 10 Minuten mindestens zweimal "
    "(0 spielt ihn einmal)",
    "page.bound_why.repeat_every_s_min": "dichter aufeinander überlagern sich die Töne",
    "page.bound_why.repeat_for_s": "ein Alarm, den niemand bestätigt, wird binnen Stunden geschlossen: länger ist ein "
    "Versehen, keine Wahl",
    "page.bound_why.backup_keep_days": "jede Kopie ist so groß wie die ganze Ereignisdatei und liegt auf ihrer Festplatte; eine von Kopien volle "
    "Festplatte stoppt das Speichern der Ereignisse",
    "page.bound_why.raw_keep_days": "über ein Jahr hinaus bedeutet der Wert dasselbe wie 0: jede Rohdatei behalten",
    "page.old_code": "Die laufende Überwachung wurde mit anderem Code gestartet, als jetzt installiert ist (seit ihrem "
    "Start aktualisiert): starten Sie sie neu: {restart}. Bis dahin läuft sie weiter, mit dem Code ihres Starts.",
    "page.restart_by_hand": "beenden Sie 'spasmwatch run' (Strg+C) und starten Sie es wieder",
    "page.config_restart": "In der Konfigurationsdatei geändert, wirksam erst beim Start der Überwachung: {keys}. "
    "Starten Sie die Überwachung neu: {restart}. Bis dahin läuft sie weiter, mit den Einstellungen ihres Starts.",
    "locked.title": "spasmwatch: Zugang nur über den Link mit dem Token",
    "locked.text": "Diese Seite ist geschützt. Öffnen Sie den Link mit {link}, den {command} auf dem Computer zeigt, "
    "auf dem spasmwatch läuft (oder fragen Sie, wer es eingerichtet hat). Das Handy merkt ihn sich dann.",
}
