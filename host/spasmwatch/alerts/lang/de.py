"""Deutsch. "Brustgurt" for the band, "Serie" for a cluster (BNS-Anfälle kommen in Serien), "Sie"."""

CATALOG: dict[str, str] = {
    "disclaimer": "spasmwatch ist ein Hilfsmittel zur Früherkennung, keine Diagnose.",
    "device": "{label} ({device})",
    "since": " seit {time}",
    "of": " von {time}",
    "waking.unknown": "Aufwachzeit unbekannt",
    "waking.after": "{min} min nach dem Aufwachen",
    "spasms.one": "{n} plötzliche Anspannung",
    "spasms.other": "{n} plötzliche Anspannungen",
    "span.s": "{n} s",
    "span.min": "{n} min",
    "warning.title": "Hinweis: {n} krampfartige Bewegungen",
    "warning.text": "{spasms} kurz nacheinander{since}. Folgt eine dritte, gibt spasmwatch Serien-Alarm. "
    "Sehen Sie am besten nach dem Baby.",
    "alarm.title": "ALARM: mögliche Serie von Spasmen",
    "alarm.text": "{spasms} in einer Serie{since}, {waking}. Bitte filmen Sie das Baby jetzt, falls die Spasmen noch andauern, "
    "und kontaktieren Sie Ihre Kinderärztin oder Ihren Kinderarzt. {disclaimer}",
    "update.title": "Serie hält an: {n} Bewegungen",
    "update.text": "Die Serie geht weiter: {spasms}{since}. Filmen Sie weiter, wenn möglich. {disclaimer}",
    "escalated.title": "ALARM NICHT BESTÄTIGT: mögliche Serie von Spasmen",
    "escalated.text": "Seit {span} hat niemand den Alarm bestätigt. {spasms} in einer Serie{since}, {waking}. "
    "Bitte sehen Sie jetzt nach dem Baby, filmen Sie, falls die Spasmen noch andauern, und kontaktieren Sie Ihre "
    "Kinderärztin oder Ihren Kinderarzt. {disclaimer}",
    "acknowledged.title": "Alarm bestätigt von {by}",
    "acknowledged.text": "{by} kümmert sich um den Alarm von {device}.",
    "closed.title": "Serie beendet",
    "closed.over": " in {span}",
    "closed.start": ", Beginn {time}",
    "closed.text": "Serie beendet: {n} krampfartige Bewegungen{over}{start}. Notieren Sie, was Sie gesehen haben, "
    "und heben Sie Videos für Ihre Kinderärztin oder Ihren Kinderarzt auf.",
    "false_alarm.title": "Fehlalarm",
    "false_alarm.text": "{by} hat die Serie{of} als Fehlalarm markiert. Nichts zu tun.",
    "test_alarm.title": "Testalarm, nichts erkannt",
    "test_alarm.text": "Dies ist ein Test der Alarme von spasmwatch, gesendet von {by} um {time}. Es wurde kein Spasmus "
    "erkannt. Er ist angekommen, also erreichen Alarme dieses Handy oder diesen Lautsprecher. Ein echter Alarm braucht "
    "außerdem einen geladenen, angelegten und verbundenen Brustgurt und kommt nur, wenn spasmwatch eine Serie erkennt; "
    "manche übersieht es. Wenn Sie Spasmen sehen, filmen Sie sie und wenden Sie sich an Ihre Kinderärztin oder Ihren "
    "Kinderarzt.",
    "fault.disconnected.title": "Brustgurt getrennt",
    "fault.disconnected.text": "Keine Daten vom Brustgurt: Spasmen können nicht erkannt werden. Prüfen Sie, ob er "
    "geladen und in Reichweite dieses Computers ist.",
    "fault.disconnected.here.text": "Keine Daten vom Brustgurt: Spasmen können nicht erkannt werden. Das Problem liegt "
    "an diesem Computer, nicht am Brustgurt: Er kann Bluetooth nicht nutzen (kein Bluetooth-Adapter, oder der "
    "Bluetooth-Dienst läuft nicht). 'spasmwatch status' auf diesem Computer sagt, was zu tun ist.",
    "fault.not_worn.title": "Brustgurt nicht angelegt",
    "fault.not_worn.text": "Brustgurt nicht angelegt: Prüfen Sie, ob er eng an der Brust des Babys sitzt, Sensor vorne.",
    "fault.battery_low.title": "Akku des Brustgurts schwach",
    "fault.battery_low.text": "Akku des Brustgurts schwach: bald laden. Bei 3 % erkennt er nichts mehr, bis er "
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
    "Festplatte voll?). Alarme funktionieren weiter, und der Brustgurt behält seine Ereignisse, bis sie gespeichert "
    "werden können: Schaffen Sie Speicherplatz.",
    "fault.band_log_failing.title": "Brustgurt kann nicht speichern",
    "fault.band_log_failing.text": "Der Brustgurt konnte eine erkannte Bewegung nicht speichern, und solche Bewegungen "
    "kommen auch hier nicht an: Spasmen können übersehen werden. Starten Sie den Brustgurt neu; kommt das wieder, "
    "spielen Sie die Firmware neu auf (spasmwatch flash) oder ersetzen Sie ihn.",
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
    "cleared.band_log_failing.title": "Brustgurt speichert wieder",
    "cleared.band_log_failing.text": "Der Brustgurt speichert seine Ereignisse wieder (er wurde neu gestartet).",
    "summary.title": "Tagesübersicht: {clusters} in 24 h",
    "summary.no_cluster": "keine Serie",
    "summary.clusters.one": "{n} Serie",
    "summary.clusters.other": "{n} Serien",
    "summary.spasms.one": "{n} krampfartige Bewegung",
    "summary.spasms.other": "{n} krampfartige Bewegungen",
    "summary.more": " und {n} weitere",
    "summary.outside.one": " und {n} weitere außerhalb davon",
    "summary.outside.other": " und {n} weitere außerhalb davon",
    "summary.counts": "{clusters} ({times}{more}): {spasms} darin{outside}",
    "summary.counts_none": "keine Serie, {spasms}",
    "summary.last_day": "Letzte 24 h: {counts}; {worn}.",
    "summary.worn_none": "keine Daten vom Brustgurt",
    "summary.worn_h": "Brustgurt {n} h getragen",
    "summary.worn_min": "Brustgurt {n} min getragen",
    "summary.quiet.one": "Seit {n} Tag keine Serie.",
    "summary.quiet.other": "Seit {n} Tagen keine Serie.",
    "summary.yesterday": "gestern",
    "summary.days_ago": "vor {n} Tagen",
    "summary.treatment": "Seit Beginn der Behandlung mit {drug} ({ago}): {after} Serien pro 24 h Überwachung (vorher {before}).",
    "summary.treatment_same": "Seit Beginn der Behandlung mit {drug} ({ago}): {after} Serien pro 24 h Überwachung "
    "(vorher {before}: etwa gleich).",
    "summary.treatment_few": "Seit Beginn der Behandlung mit {drug} ({ago}): noch zu wenige Stunden überwacht für einen "
    "Vergleich ({after} h seitdem, {before} h davor; je {need} h nötig).",
    "summary.treatment_doctor": "Es zählen nur Stunden, in denen der Brustgurt getragen und verbunden war; ob die "
    "Behandlung wirkt, beurteilt Ihre Kinderärztin oder Ihr Kinderarzt.",
    "decimal_mark": ",",
    "summary.video": "Heben Sie Videos auf und sagen Sie es Ihrer Kinderärztin oder Ihrem Kinderarzt.",
}
