"""Español. "banda" for the band, "serie" for a cluster (los espasmos vienen en series), "usted"."""

CATALOG: dict[str, str] = {
    "disclaimer": "spasmwatch es una ayuda para la detección, no un diagnóstico.",
    "device": "{label} ({device})",
    "since": " desde las {time}",
    "of": " de las {time}",
    "waking.unknown": "hora de despertar desconocida",
    "waking.after": "{min} min después de despertar",
    "spasms.one": "{n} contracción repentina",
    "spasms.other": "{n} contracciones repentinas",
    "span.s": "{n} s",
    "span.min": "{n} min",
    "warning.title": "Aviso: {n} movimientos tipo espasmo",
    "warning.text": "{spasms} muy seguidas{since}. Si llega una tercera, spasmwatch dará la alarma de serie. "
    "Conviene mirar al bebé.",
    "alarm.title": "ALARMA: posible serie de espasmos",
    "alarm.text": "{spasms} en serie{since}, {waking}. Por favor, grabe al bebé ahora si sigue ocurriendo "
    "y contacte con su pediatra. {disclaimer}",
    "update.title": "La serie continúa: {n} movimientos",
    "update.text": "La serie sigue: {spasms}{since}. Siga grabando si puede. {disclaimer}",
    "escalated.title": "ALARMA SIN CONFIRMAR: posible serie de espasmos",
    "escalated.text": "Nadie ha confirmado la alarma en {span}. {spasms} en serie{since}, {waking}. Por favor, "
    "mire al bebé ahora, grábelo si sigue ocurriendo y contacte con su pediatra. {disclaimer}",
    "acknowledged.title": "Alarma confirmada por {by}",
    "acknowledged.text": "{by} se ocupa de la alarma de {device}.",
    "closed.title": "Serie terminada",
    "closed.over": " en {span}",
    "closed.start": ", empezó a las {time}",
    "closed.text": "Serie terminada: {n} movimientos tipo espasmo{over}{start}. Anote lo que vio y guarde los vídeos "
    "para su pediatra.",
    "false_alarm.title": "Falsa alarma",
    "false_alarm.text": "{by} marcó la serie{of} como falsa alarma. No hace falta hacer nada.",
    "test_alarm.title": "Alarma de prueba, nada detectado",
    "test_alarm.text": "Esto es una prueba de las alarmas de spasmwatch, enviada por {by} a las {time}. No se detectó "
    "ningún espasmo. Ha llegado, así que las alarmas llegan a este teléfono o altavoz. Una alarma real necesita "
    "además la banda cargada, puesta y conectada, y solo llega cuando spasmwatch detecta una serie; algunas se le "
    "escapan. Si ve espasmos, grábelos y consulte a su pediatra.",
    "fault.disconnected.title": "Banda desconectada",
    "fault.disconnected.text": "No llegan datos de la banda: no se pueden detectar espasmos. Compruebe que la banda "
    "está cargada y al alcance de este ordenador.",
    "fault.disconnected.here.text": "No llegan datos de la banda: no se pueden detectar espasmos. El problema está en "
    "este ordenador, no en la banda: no puede usar Bluetooth (no tiene adaptador Bluetooth, o el servicio Bluetooth "
    "no está en marcha). 'spasmwatch status' en este ordenador indica qué hacer.",
    "fault.not_worn.title": "Banda no puesta",
    "fault.not_worn.text": "Banda no puesta: compruebe que está bien ajustada al pecho del bebé, con el sensor delante.",
    "fault.battery_low.title": "Batería de la banda baja",
    "fault.battery_low.text": "Batería de la banda baja: cárguela pronto. Al 3 % deja de detectar hasta que se cargue.",
    "fault.log_nearly_full.title": "Memoria de la banda casi llena",
    "fault.log_nearly_full.text": "El registro de eventos de la banda está casi lleno: acérquela a este ordenador "
    "para que pueda enviar sus eventos.",
    "fault.clock_unsynced.title": "Reloj de la banda sin ajustar",
    "fault.clock_unsynced.text": "El reloj de la banda no está sincronizado: las horas de los eventos pueden ser "
    "erróneas hasta que se conecte a este ordenador.",
    "fault.safe_mode.title": "Banda en modo seguro",
    "fault.safe_mode.text": "La banda se reinició en modo seguro y no detecta: reiníciela y actualice su firmware "
    "si vuelve a ocurrir.",
    "fault.sensor_error.title": "Error del sensor de la banda",
    "fault.sensor_error.text": "El sensor de movimiento de la banda indica un error y no detecta: reinicie la banda.",
    "fault.storage_failing.title": "No se pueden guardar los eventos",
    "fault.storage_failing.text": "Este ordenador no puede guardar los eventos de la banda (¿está lleno el disco?). "
    "Las alarmas siguen funcionando y la banda conserva sus eventos hasta que se puedan guardar: libere espacio.",
    "fault.band_log_failing.title": "La banda no puede guardar eventos",
    "fault.band_log_failing.text": "La banda no pudo guardar en su memoria un movimiento que detectó, y esos "
    "movimientos tampoco llegan aquí: pueden pasar espasmos sin detectar. Reinicie la banda; si vuelve a ocurrir, "
    "grabe de nuevo su firmware (spasmwatch flash) o sustitúyala.",
    "cleared.disconnected.title": "Banda reconectada",
    "cleared.disconnected.text": "Banda reconectada: vigilando de nuevo.",
    "cleared.not_worn.title": "Banda puesta de nuevo",
    "cleared.not_worn.text": "Banda puesta de nuevo: vigilando de nuevo.",
    "cleared.battery_low.title": "Batería de la banda correcta",
    "cleared.battery_low.text": "La batería de la banda vuelve a estar bien.",
    "cleared.log_nearly_full.title": "Memoria de la banda correcta",
    "cleared.log_nearly_full.text": "La banda envió sus eventos; su registro vuelve a tener espacio.",
    "cleared.clock_unsynced.title": "Reloj de la banda ajustado",
    "cleared.clock_unsynced.text": "El reloj de la banda vuelve a estar sincronizado.",
    "cleared.safe_mode.title": "La banda detecta de nuevo",
    "cleared.safe_mode.text": "La banda salió del modo seguro y vuelve a detectar.",
    "cleared.sensor_error.title": "Sensor de la banda correcto",
    "cleared.sensor_error.text": "El sensor de movimiento de la banda vuelve a funcionar.",
    "cleared.storage_failing.title": "Eventos guardados de nuevo",
    "cleared.storage_failing.text": "Este ordenador vuelve a guardar los eventos de la banda.",
    "cleared.band_log_failing.title": "La banda vuelve a guardar",
    "cleared.band_log_failing.text": "La banda vuelve a guardar sus eventos (se reinició).",
    "summary.title": "Resumen diario: {clusters} en 24 h",
    "summary.no_cluster": "ninguna serie",
    "summary.clusters.one": "{n} serie",
    "summary.clusters.other": "{n} series",
    "summary.spasms.one": "{n} movimiento tipo espasmo",
    "summary.spasms.other": "{n} movimientos tipo espasmo",
    "summary.more": " y {n} más",
    "summary.outside.one": " y {n} más fuera de ella",
    "summary.outside.other": " y {n} más fuera de ellas",
    "summary.counts": "{clusters} ({times}{more}) con {spasms}{outside}",
    "summary.counts_none": "ninguna serie, {spasms}",
    "summary.last_day": "Últimas 24 h: {counts}; {worn}.",
    "summary.worn_none": "sin datos de la banda",
    "summary.worn_h": "banda puesta {n} h",
    "summary.worn_min": "banda puesta {n} min",
    "summary.quiet.one": "Ninguna serie desde hace {n} día.",
    "summary.quiet.other": "Ninguna serie desde hace {n} días.",
    "summary.yesterday": "ayer",
    "summary.days_ago": "hace {n} días",
    "summary.treatment": "Desde el inicio del tratamiento con {drug} ({ago}): {after} series por cada 24 h de "
    "monitorización ({before} antes).",
    "summary.treatment_same": "Desde el inicio del tratamiento con {drug} ({ago}): {after} series por cada 24 h de "
    "monitorización ({before} antes: más o menos igual).",
    "summary.treatment_few": "Desde el inicio del tratamiento con {drug} ({ago}): aún hay pocas horas de monitorización "
    "para comparar ({after} h desde entonces, {before} h antes; se necesitan {need} h en cada periodo).",
    "summary.treatment_doctor": "Solo cuentan las horas con la banda puesta y conectada; si el tratamiento funciona, "
    "lo valora su pediatra.",
    "decimal_mark": ",",
    "summary.video": "Guarde los vídeos y cuénteselo a su pediatra.",
}
